// Live: "N new items" on the first page of a filter, from the API's contentItemEvents
// subscription (graphql-transport-ws on a WebSocket at /graphql, the token in
// connection_init). Items created meanwhile wait behind a button; a tile whose item
// changes is redrawn, one that left the filter (or was deleted) is dropped.
import { $, tile } from "./dom.js";

const EVENTS = `subscription GalleryLive($tagNames: [String!], $match: TagMatchMode!,
  $excludeTagNames: [String!], $collections: [ContentCollection!], $search: String) {
  contentItemEvents(tagNames: $tagNames, match: $match, excludeTagNames: $excludeTagNames,
    collections: $collections, search: $search) {
    kind itemId item { id title thumbnail(resolution: "512x512") qualityScore }
  }
}`;
const MAX_RETRY_MS = 30_000;
const MAX_WAITING = 500; // new items held behind the button at most (the oldest go first)

let socket = null;
let generation = 0; // a newer startLive/stopLive makes older sockets' callbacks no-ops
let retries = 0;
let timer = null;
let waiting = new Map(); // itemId → item, in commit order
let reveal = () => {};

const send = (ws, message) => ws.send(JSON.stringify(message));

function draw() {
  const button = $("live-new");
  const n = waiting.size;
  button.hidden = n === 0;
  button.textContent = `${n} new item${n === 1 ? "" : "s"}`;
}

function shownTile(id) {
  return [...document.querySelectorAll("#grid .tile")].find((t) => t.dataset.id === id);
}

function onEvent({ kind, itemId, item }) {
  const shown = shownTile(itemId);
  if (!item) {
    waiting.delete(itemId);
    shown?.remove();
  } else if (shown) {
    shown.replaceWith(tile(item));
  } else if (kind === "CREATED" || waiting.has(itemId)) {
    waiting.set(itemId, item);
    if (waiting.size > MAX_WAITING) waiting.delete(waiting.keys().next().value);
  }
  draw();
}

export function stopLive() {
  generation += 1;
  clearTimeout(timer);
  socket?.close(1000);
  socket = null;
  waiting = new Map();
  document.body.dataset.live = "off";
  draw();
}

// Subscribe to the page's filter (`variables`: no sort, no paging); `onReveal(items)`
// shows the waiting items (newest first) when the button is clicked.
export function startLive(variables, token, onReveal) {
  stopLive();
  const mine = generation;
  reveal = onReveal;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/graphql`, "graphql-transport-ws");
  socket = ws;
  const again = () => {
    if (mine !== generation) return;
    const delay = Math.min(MAX_RETRY_MS, 1000 * 2 ** retries);
    retries += 1;
    timer = setTimeout(() => startLive(variables, token, onReveal), delay);
  };
  ws.onopen = () => send(ws, {
    type: "connection_init", payload: token ? { Authorization: `Bearer ${token}` } : {},
  });
  ws.onmessage = (message) => {
    if (mine !== generation) return;
    const data = JSON.parse(message.data);
    if (data.type === "connection_ack") {
      send(ws, { id: "live", type: "subscribe", payload: { query: EVENTS, variables } });
      document.body.dataset.live = "on";
    } else if (data.type === "ping") {
      send(ws, { type: "pong" });
    } else if (data.type === "next" && data.payload.data) {
      retries = 0;
      onEvent(data.payload.data.contentItemEvents);
    } else if (data.payload?.errors?.[0]?.extensions?.code === "EVENTS_INTERRUPTED") {
      ws.close(1000); // events may have been missed: subscribe again (onclose)
    } else if (data.type !== "next") {
      document.body.dataset.live = "off"; // complete, or a refused filter: the page shows why
    }
  };
  // A closed socket (server restart, 1013 for falling behind) is opened again, with
  // backoff; a refused token (4403) is not.
  ws.onclose = (event) => {
    if (mine !== generation || event.code === 4403) return;
    document.body.dataset.live = "off";
    again();
  };
}

// `onShown`: the page came back from the back/forward cache (its socket was closed).
export function wireLive(onShown) {
  window.addEventListener("pagehide", stopLive); // a cached page must not stay subscribed
  window.addEventListener("pageshow", (event) => event.persisted && onShown());
  $("live-new").addEventListener("click", () => {
    const items = [...waiting.values()].reverse();
    waiting = new Map();
    draw();
    reveal(items);
  });
}
