// The public GraphQL API at /graphql, as every request of the page sends it: by the
// document's SHA-256 (Apollo's persisted queries; the bundled manifest holds every document
// of the page), queries by GET so an anonymous answer may be cached, the token from
// localStorage as a bearer token, errors as ApiError (code and message).

export const TOKEN_KEY = "gallery-gql.token";

// Long GET URLs (many tag ids in the variables) risk a proxy's or server's line limit.
const MAX_GET_URL = 6000;
const hashes = new Map();

export class ApiError extends Error {
  constructor(errors) {
    super(errors.map((e) => `${e.code}: ${e.message}`).join("; "));
    this.errors = errors;
  }
}

export async function gql(query, variables = {}) {
  // crypto.subtle exists only in secure contexts (https, localhost): elsewhere, in full.
  if (!globalThis.crypto?.subtle) return send("POST", { query, variables });
  const extensions = { persistedQuery: { version: 1, sha256Hash: await documentHash(query) } };
  const mutation = query.replace(/#.*/g, "").trimStart().startsWith("mutation");
  const method = mutation ? "POST" : "GET";
  try {
    return await send(method, { variables, extensions });
  } catch (error) {
    if (error.errors?.[0]?.code !== "PERSISTED_QUERY_NOT_FOUND") throw error;
    return send("POST", { query, variables, extensions }); // registers it for next time
  }
}

// The manifest's id: SHA-256 of the document's UTF-8 text, in hex.
async function documentHash(query) {
  if (!hashes.has(query)) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(query));
    hashes.set(query, [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join(""));
  }
  return hashes.get(query);
}

async function send(method, params) {
  const headers = {};
  const token = localStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  let url = "/graphql";
  if (method === "GET") {
    const search = new URLSearchParams(
      Object.entries(params).map(([name, value]) => [name, JSON.stringify(value)]),
    );
    url = `/graphql?${search}`;
    if (url.length > MAX_GET_URL) return send("POST", params);
  }
  let response;
  try {
    response = method === "GET"
      ? await fetch(url, { headers })
      : await fetch(url, {
        method, headers: { ...headers, "Content-Type": "application/json" },
        body: JSON.stringify(params),
      });
  } catch {
    throw new ApiError([{ code: "NETWORK", message: "the server could not be reached" }]);
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError([{ code: `HTTP_${response.status}`, message: "unexpected response" }]);
  }
  if (body.errors?.length) {
    throw new ApiError(body.errors.map((e) => ({
      code: e.extensions?.code ?? `HTTP_${response.status}`, message: e.message,
    })));
  }
  return body.data;
}
