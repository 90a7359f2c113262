// The gallery page: every read goes through the public GraphQL API at /graphql.
// The whole view state (filters, sort, page size, cursor and direction) lives in the URL
// query string; an open item lives in the hash (#/item/<id>). The first page of a filter
// is live (live.js).
import { TOKEN_KEY, gql } from "./api.js";
import { $, el, picture, tile } from "./dom.js";
import { startLive, stopLive, wireLive } from "./live.js";
import { tagCombo } from "./tag_combo.js";

const SORTS = { newest: "NEWEST", top: "TOP_RATED" };

// The gallery's four collections, as the URL (`show=`) and the API name them.
const COLLECTIONS = {
  "my-regular": "USER_REGULAR", "my-auto": "USER_AUTO",
  "community-regular": "COMMUNITY_REGULAR", "community-auto": "COMMUNITY_AUTO",
};

const PAGE_QUERY = `query GalleryPage($tagNames: [String!], $match: TagMatchMode!,
  $excludeTagNames: [String!], $collections: [ContentCollection!], $search: String,
  $sort: ContentSort!, $first: Int, $cursor: Cursor, $last: Int, $before: Cursor) {
  contentItems(tagNames: $tagNames, match: $match, excludeTagNames: $excludeTagNames,
    collections: $collections, search: $search, sort: $sort, first: $first, cursor: $cursor,
    last: $last, before: $before) {
    edges { node { id title thumbnail(resolution: "512x512") qualityScore } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount { count isExact }
  }
}`;
const ITEM_QUERY = `query GalleryItem($id: ID!) {
  contentItem(id: $id) {
    id title contentType contentData thumbnail(resolution: "1024x1024") prompt
    qualityScore isPrivate createdAt source creator { username } tags { id name }
  }
}`;


// ---------------------------------------------------------------------------- state ⇄ URL

function readState(search = location.search) {
  const p = new URLSearchParams(search);
  const oneOf = (value, allowed, fallback) => (allowed.includes(value) ? value : fallback);
  return {
    tags: p.getAll("tag"),
    match: oneOf(p.get("match"), ["any", "all"], "any"),
    exclude: p.getAll("exclude"),
    // No `show`: every collection; `show=none`: an explicitly empty selection.
    show: p.has("show")
      ? p.getAll("show").filter((c) => c in COLLECTIONS)
      : Object.keys(COLLECTIONS),
    q: p.get("q") ?? "",
    sort: oneOf(p.get("sort"), Object.keys(SORTS), "newest"),
    size: p.get("size") === "100" ? 100 : 25,
    after: p.get("after"),
    before: p.get("before"),
  };
}

function queryString(s) {
  const p = new URLSearchParams();
  s.tags.forEach((t) => p.append("tag", t));
  if (s.tags.length && s.match !== "any") p.set("match", s.match);
  s.exclude.forEach((t) => p.append("exclude", t));
  if (!s.show.length) p.set("show", "none");
  else if (s.show.length < Object.keys(COLLECTIONS).length) s.show.forEach((c) => p.append("show", c));
  if (s.q) p.set("q", s.q);
  if (s.sort !== "newest") p.set("sort", s.sort);
  if (s.size !== 25) p.set("size", String(s.size));
  if (s.after) p.set("after", s.after);
  if (s.before) p.set("before", s.before);
  const text = p.toString();
  return text ? `?${text}` : "";
}

// A filter change starts again at page one; paging keeps the filter and moves the cursor.
function navigate(changes, { paging = false } = {}) {
  const next = { ...readState(), ...changes };
  if (!paging) Object.assign(next, { after: null, before: null });
  history.pushState(null, "", location.pathname + queryString(next));
  loadPage();
}

function showErrors(error) {
  const box = $("errors");
  if (!error) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  const errors = error.errors ?? [{ code: "CLIENT", message: String(error.message ?? error) }];
  box.replaceChildren(el("ul", {}, errors.map((e) =>
    el("li", {}, el("code", {}, e.code), " ", e.message))));
  box.hidden = false;
}

// ---------------------------------------------------------------------------- the page

// Tags go by name: the API reports every unknown name (BAD_USER_INPUT), never an empty page.
function filterVariables(s) {
  const v = { match: s.match.toUpperCase() };
  if (s.tags.length) v.tagNames = s.tags;
  if (s.exclude.length) v.excludeTagNames = s.exclude;
  if (s.show.length < Object.keys(COLLECTIONS).length) v.collections = s.show.map((c) => COLLECTIONS[c]);
  if (s.q.trim()) v.search = s.q.trim();
  return v;
}

function pageVariables(s) {
  const v = { ...filterVariables(s), sort: SORTS[s.sort] };
  if (s.before) Object.assign(v, { last: s.size, before: s.before });
  else Object.assign(v, { first: s.size, cursor: s.after ?? undefined });
  return v;
}

let pageRequest = 0;
let loadedSearch = null;
let lastPage = null;

async function loadPage() {
  const request = ++pageRequest;
  const s = readState();
  loadedSearch = location.search;
  syncControls(s);
  document.body.dataset.state = "loading";
  $("status").textContent = "Loading…";
  try {
    const data = await gql(PAGE_QUERY, pageVariables(s));
    if (request !== pageRequest) return;
    lastPage = data.contentItems;
    renderPage(lastPage);
    showErrors(null);
    goLive(s);
    document.body.dataset.state = "ready";
  } catch (error) {
    if (request !== pageRequest) return;
    stopLive();
    lastPage = null;
    renderPage(null);
    showErrors(error);
    document.body.dataset.state = "error";
  }
  $("status").textContent = "";
}

function renderPage(page) {
  const edges = page?.edges ?? [];
  $("grid").replaceChildren(...edges.map(({ node }) => tile(node)));
  if (page && !edges.length) $("grid").append(el("p", { class: "empty" }, "No items match."));
  const total = page?.totalCount;
  $("total").textContent = total
    ? `${total.count}${total.isExact ? "" : "+"} item${total.count === 1 ? "" : "s"}`
    : "";
  $("prev").disabled = !page?.pageInfo.hasPreviousPage;
  $("next").disabled = !page?.pageInfo.hasNextPage;
}

// Only the first page is live: new items belong before it. By date they are put at the
// top of the grid; in another order the page is read again.
function goLive(s) {
  if (s.after || s.before) {
    stopLive();
    return;
  }
  startLive(filterVariables(s), localStorage.getItem(TOKEN_KEY), (items) => {
    if (s.sort !== "newest") {
      loadPage();
      return;
    }
    $("grid").querySelector(".empty")?.remove();
    $("grid").prepend(...items.map(tile));
  });
}

// ---------------------------------------------------------------------------- controls

function syncControls(s) {
  const token = Boolean(localStorage.getItem(TOKEN_KEY));
  $("sort").value = s.sort;
  $("search").value = s.q;
  document.querySelectorAll("[data-size]").forEach((b) =>
    b.setAttribute("aria-pressed", String(Number(b.dataset.size) === s.size)));
  document.querySelectorAll("[data-match]").forEach((b) =>
    b.setAttribute("aria-pressed", String(b.dataset.match === s.match)));
  renderChips("tag-chips", s.tags, "tags");
  renderChips("exclude-chips", s.exclude, "exclude");
  // An anonymous viewer owns nothing: "My …" are off and disabled (the API would show
  // nothing for them), whatever the URL says.
  for (const name of Object.keys(COLLECTIONS)) {
    const box = $(`show-${name}`);
    const mine = name.startsWith("my-");
    box.checked = s.show.includes(name) && (token || !mine);
    box.disabled = mine && !token;
  }
  $("who-hint").hidden = token;
}

function renderChips(id, names, key) {
  $(id).replaceChildren(...names.map((name) =>
    el("span", { class: "chip", dataset: { name } }, name,
      el("button", { type: "button", "aria-label": `Remove ${name}`,
        onclick: () => navigate({ [key]: readState()[key].filter((n) => n !== name) }) }, "×"))));
}

function wireControls() {
  $("sort").addEventListener("change", (e) => navigate({ sort: e.target.value }));
  $("search-form").addEventListener("submit", (e) => {
    e.preventDefault();
    navigate({ q: $("search").value.trim() });
  });
  document.querySelectorAll("[data-size]").forEach((b) =>
    b.addEventListener("click", () => navigate({ size: Number(b.dataset.size) })));
  document.querySelectorAll("[data-match]").forEach((b) =>
    b.addEventListener("click", () => navigate({ match: b.dataset.match })));
  const show = () => navigate({
    show: Object.keys(COLLECTIONS).filter((name) => {
      const box = $(`show-${name}`);
      return box.checked || (box.disabled && readState().show.includes(name));
    }),
  });
  for (const name of Object.keys(COLLECTIONS)) $(`show-${name}`).addEventListener("change", show);
  $("next").addEventListener("click", () =>
    lastPage && navigate({ after: lastPage.pageInfo.endCursor, before: null }, { paging: true }));
  $("prev").addEventListener("click", () =>
    lastPage && navigate({ before: lastPage.pageInfo.startCursor, after: null }, { paging: true }));
  tagCombo("tag-input", "tag-options", (name) =>
    navigate({ tags: [...new Set([...readState().tags, name])] }), showErrors);
  tagCombo("exclude-input", "exclude-options", (name) =>
    navigate({ exclude: [...new Set([...readState().exclude, name])] }), showErrors);
}

// ---------------------------------------------------------------------------- the token

async function showViewer() {
  const token = localStorage.getItem(TOKEN_KEY);
  $("token-clear").hidden = !token;
  $("token").hidden = $("token-save").hidden = Boolean(token);
  if (!token) {
    $("viewer").textContent = "Not signed in";
    return;
  }
  try {
    const data = await gql(`query Viewer { viewer { username } }`);
    $("viewer").textContent = data.viewer ? `Signed in as ${data.viewer.username}` : "Unknown user";
  } catch (error) {
    $("viewer").textContent = "Token rejected";
    showErrors(error);
  }
}

function wireToken() {
  $("token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const token = $("token").value.trim().replace(/^Bearer\s+/i, "");
    if (!token) return;
    localStorage.setItem(TOKEN_KEY, token);
    $("token").value = "";
    showViewer();
    loadPage();
  });
  $("token-clear").addEventListener("click", () => {
    localStorage.removeItem(TOKEN_KEY);
    showViewer();
    navigate({ who: "all" });
  });
}

// ---------------------------------------------------------------------------- one item

function itemIdFromHash() {
  const match = /^#\/item\/(.+)$/.exec(location.hash);
  return match ? decodeURIComponent(match[1]) : null;
}

async function showItem() {
  const id = itemIdFromHash();
  const view = $("item-view");
  if (!id) {
    view.hidden = true;
    return;
  }
  view.hidden = false;
  const body = $("item-body");
  body.replaceChildren(el("p", { class: "status" }, "Loading…"));
  try {
    const { contentItem: item } = await gql(ITEM_QUERY, { id });
    if (itemIdFromHash() !== id) return;
    body.replaceChildren(item ? itemDetails(item) : el("p", {}, "This item does not exist or is private."));
  } catch (error) {
    body.replaceChildren(el("div", { class: "errors" }, el("ul", {}, (error.errors ?? []).map((e) =>
      el("li", {}, el("code", {}, e.code), " ", e.message)))));
  }
  $("item-close").focus();
}

function itemDetails(item) {
  const row = (label, ...value) => [el("dt", {}, label), el("dd", {}, ...value)];
  return el("div", { class: "item", dataset: { id: item.id } },
    picture(item.thumbnail, item.title, item.id),
    el("div", { class: "facts" },
      el("h2", { id: "item-title" }, item.title),
      el("dl", {},
        row("Image", el("code", {}, item.contentData)),
        row("Prompt", item.prompt),
        row("Quality", item.qualityScore.toFixed(2)),
        row("Creator", item.creator.username),
        row("Created", new Date(item.createdAt).toLocaleString()),
        row("Source", `${item.source.toLowerCase()}${item.isPrivate ? " · private" : ""}`),
        row("Tags", el("span", { class: "item-tags" }, item.tags.map((t) =>
          el("button", { type: "button", class: "chip tag", title: `Show items tagged ${t.name}`,
            onclick: () => { $("item-view").hidden = true; navigate({ tags: [t.name], match: "any" }); } },
          t.name)))))));
}

function closeItem() {
  $("item-view").hidden = true;
  if (history.state?.item) history.back();
  else history.replaceState(null, "", location.pathname + location.search);
}

function wireItemView() {
  $("grid").addEventListener("click", (e) => {
    const tile = e.target.closest("a.tile");
    if (!tile || e.metaKey || e.ctrlKey) return;
    e.preventDefault();
    history.pushState({ item: tile.dataset.id }, "", tile.getAttribute("href"));
    showItem();
  });
  $("item-close").addEventListener("click", closeItem);
  $("item-view").addEventListener("click", (e) => e.target === $("item-view") && closeItem());
  document.addEventListener("keydown", (e) => e.key === "Escape" && !$("item-view").hidden && closeItem());
}

// ---------------------------------------------------------------------------- start

window.addEventListener("popstate", () => {
  if (location.search !== loadedSearch) loadPage();
  showItem();
});
wireControls();
wireLive(loadPage);
wireToken();
wireItemView();
showViewer();
loadPage();
showItem();
