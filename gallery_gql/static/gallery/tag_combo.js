// A tag name input with autocomplete over the API's tags(search:).
import { gql } from "./api.js";
import { $, el } from "./dom.js";

const TAG_SEARCH_QUERY = `query TagSearch($search: String) {
  tags(search: $search, first: 8) { edges { node { id name itemCount } } }
}`;

// Tag autocomplete over tags(search:): type, then arrows and Enter, or click.
export function tagCombo(inputId, listId, onPick, onError) {
  const input = $(inputId);
  const list = $(listId);
  let options = [];
  let active = 0;
  let timer = null;
  let request = 0;
  const close = () => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
  };
  const draw = () => {
    list.replaceChildren(...options.map((tag, i) =>
      el("li", { role: "option", "aria-selected": String(i === active), dataset: { name: tag.name },
        onmousedown: (e) => { e.preventDefault(); pick(tag.name); } },
      el("span", {}, tag.name), el("small", {}, String(tag.itemCount)))));
    list.hidden = !options.length;
    input.setAttribute("aria-expanded", String(!list.hidden));
  };
  const pick = (name) => {
    input.value = "";
    options = [];
    close();
    onPick(name);
  };
  const search = async () => {
    const text = input.value.trim();
    const mine = ++request;
    if (!text) {
      options = [];
      draw();
      return;
    }
    try {
      const data = await gql(TAG_SEARCH_QUERY, { search: text });
      if (mine !== request) return;
      options = data.tags.edges.map((e) => e.node);
      active = 0;
      draw();
    } catch (error) {
      onError(error);
    }
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, 150);
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const step = e.key === "ArrowDown" ? 1 : -1;
      active = (active + step + options.length) % Math.max(options.length, 1);
      draw();
    } else if (e.key === "Enter") {
      e.preventDefault();
      if (options[active]) pick(options[active].name);
    } else if (e.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", close);
}
