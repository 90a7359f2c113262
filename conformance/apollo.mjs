// Apollo Client (core, no React) against a GraphQL-over-HTTP endpoint, as a JavaScript app
// would drive it; prints one JSON report:
//   {pages, merged, cachedItems, persisted: {first, second, requests}, error, renamed}
//   node apollo.mjs http://127.0.0.1:8000/graphql [PAGE_SIZE [TOKEN]]
// pages: each page's item ids (a first page, then fetchMore twice with `after`); merged:
// the connection as the cache holds it after merging them (relayStylePagination);
// cachedItems: the normalized ContentItem entries. persisted.requests: every HTTP request
// the automatic persisted queries link made, in order. error: a bad page size as the
// client reports it. renamed (with a bearer TOKEN of an admin or the first item's creator):
// the first item retitled by `updateContent`, and its title as the cache then holds it.
import { createHash } from "node:crypto";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client/core/index.js";
import { createPersistedQueryLink } from "@apollo/client/link/persisted-queries/index.js";
import { relayStylePagination } from "@apollo/client/utilities/index.js";

const url = process.argv[2];
const pageSize = Number(process.argv[3] ?? 4);
const token = process.argv[4];
if (!url) {
  console.error("usage: node apollo.mjs URL [PAGE_SIZE]");
  process.exit(2);
}

const PAGE = gql`
  query ApolloPage($first: Int, $after: Cursor) {
    contentItems(first: $first, after: $after) {
      edges { cursor node { id title } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
`;
const RENAME = gql`
  mutation ApolloRename($input: UpdateContentInput!) {
    updateContent(input: $input) { item { id title } errors { code } }
  }
`;
const PERSISTED = gql`
  query ApolloPersisted($first: Int) {
    contentItems(first: $first) { edges { node { id } } }
  }
`;

// Records what each request carried and how it was answered.
function recordingFetch(requests) {
  return async (input, init = {}) => {
    const method = init.method ?? "GET";
    const target = new URL(String(input));
    let carried;
    if (method === "GET") {
      carried = Object.fromEntries(target.searchParams);
      if (carried.extensions) carried.extensions = JSON.parse(carried.extensions);
    } else {
      carried = JSON.parse(init.body);
    }
    const response = await fetch(input, init);
    const body = await response.clone().json();
    requests.push({
      method,
      query: typeof carried.query === "string" && carried.query.length > 0,
      hash: carried.extensions?.persistedQuery?.sha256Hash ?? null,
      status: response.status,
      codes: (body.errors ?? []).map((error) => error.extensions?.code ?? null),
    });
    return response;
  };
}

function client(link) {
  const cache = new InMemoryCache({
    typePolicies: {
      ContentItem: { keyFields: ["id"] },
      Query: { fields: { contentItems: relayStylePagination() } },
    },
  });
  return new ApolloClient({ link, cache, defaultOptions: { query: { fetchPolicy: "network-only" } } });
}

const ids = (data) => data.contentItems.edges.map((edge) => edge.node.id);

// (1) Paging, normalized and merged by the cache.
const headers = token ? { authorization: `Bearer ${token}` } : {};
const paging = client(new HttpLink({ uri: url, headers, fetch: recordingFetch([]) }));
const watched = paging.watchQuery({ query: PAGE, variables: { first: pageSize } });
const firstPage = await watched.result();
const pages = [ids(firstPage.data)];
let pageInfo = firstPage.data.contentItems.pageInfo;
for (let i = 0; i < 2 && pageInfo.hasNextPage; i++) {
  const more = await watched.fetchMore({ variables: { first: pageSize, after: pageInfo.endCursor } });
  pages.push(ids(more.data));
  pageInfo = more.data.contentItems.pageInfo;
}
const merged = ids(paging.readQuery({ query: PAGE, variables: { first: pageSize } }));
const cachedItems = Object.keys(paging.cache.extract()).filter((key) => key.startsWith("ContentItem:"));

// (2) Automatic persisted queries: hash by GET, the full query only when the hash is unknown.
const requests = [];
const sha256 = (text) => createHash("sha256").update(text).digest("hex");
const persistedLink = createPersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(
  new HttpLink({ uri: url, fetch: recordingFetch(requests) }),
);
const persisting = client(persistedLink);
const persistedFirst = await persisting.query({ query: PERSISTED, variables: { first: 3 } });
const persistedSecond = await persisting.query({ query: PERSISTED, variables: { first: 3 } });

// (3) A bad argument value, as an ApolloError.
let error = null;
try {
  await paging.query({ query: PAGE, variables: { first: 0 } });
} catch (raised) {
  error = {
    name: raised.name,
    graphQLErrorCodes: (raised.graphQLErrors ?? []).map((e) => e.extensions?.code ?? null),
    networkError: raised.networkError
      ? {
          statusCode: raised.networkError.statusCode ?? null,
          codes: (raised.networkError.result?.errors ?? []).map((e) => e.extensions?.code ?? null),
        }
      : null,
  };
}

// (4) A mutation whose answer updates the normalized item in place.
let renamed = null;
if (token) {
  const id = pages[0][0];
  const title = "Retitled by Apollo Client";
  const answer = await paging.mutate({ mutation: RENAME, variables: { input: { id, title } } });
  const cached = paging.cache.readFragment({
    id: paging.cache.identify({ __typename: "ContentItem", id }),
    fragment: gql`fragment ApolloRenamed on ContentItem { title }`,
  });
  renamed = {
    id,
    errors: answer.data.updateContent.errors.map((e) => e.code),
    title: answer.data.updateContent.item?.title ?? null,
    cachedTitle: cached?.title ?? null,
  };
}

console.log(
  JSON.stringify({
    pages,
    merged,
    cachedItems,
    persisted: { first: ids(persistedFirst.data), second: ids(persistedSecond.data), requests },
    error,
    renamed,
  }),
);
