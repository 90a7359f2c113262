// DOM helpers the gallery's modules share: elements, the placeholder picture, a tile.

export const $ = (id) => document.getElementById(id);

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (value !== false && value != null) node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.flat().filter((c) => c != null));
  return node;
}

function hue(text) {
  let h = 0;
  for (const ch of text) h = (h * 31 + ch.codePointAt(0)) % 360;
  return h;
}

// `thumbnail` is a URL the server serves (under /media/, or the configured CDN). The
// generated placeholder (a colored tile with the title) underneath shows while the image
// loads, and stays when it cannot be loaded (the image is then removed). Tiles below the
// fold load as they come near (a page may hold 100).
export function picture(url, title, key) {
  const img = el("img", { src: url, alt: title, decoding: "async", loading: "lazy" });
  img.onerror = () => img.remove();
  const tile = el("div", { class: "picture" },
    el("div", { class: "placeholder", "aria-hidden": "true" }, el("span", {}, title)), img);
  // Through the CSSOM: the page's Content-Security-Policy refuses inline style attributes.
  tile.style.setProperty("--hue", String(hue(key)));
  return tile;
}

// One grid tile: the fields of `node` the page's query and the live events ask for.
export function tile(node) {
  return el("a", { class: "tile", href: `#/item/${encodeURIComponent(node.id)}`, title: node.title,
    dataset: { id: node.id } },
  picture(node.thumbnail, node.title, node.id),
  el("span", { class: "caption" }, el("span", { class: "title" }, node.title),
    el("span", { class: "score" }, node.qualityScore.toFixed(2))));
}
