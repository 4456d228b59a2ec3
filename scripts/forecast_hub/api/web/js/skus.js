// The SKU finder: search by id or name, filter by category, paged by the server.

import { element, formatShare } from "./format.js";

const PAGE_ROWS = 50;
const TYPING_PAUSE_MS = 250;

export class SkuFinder {
  constructor(api, { onOpen, onError, onLoaded }) {
    this.api = api;
    this.onOpen = onOpen;
    this.onError = onError;
    this.onLoaded = onLoaded;
    this.search = document.getElementById("search");
    this.category = document.getElementById("category");
    this.list = document.getElementById("sku-list");
    this.more = document.getElementById("more-skus");
    this.cursor = null;
    this.asked = 0;
    this.grain = null;
    let pause;
    this.search.addEventListener("input", () => {
      clearTimeout(pause);
      pause = setTimeout(() => this.reload(), TYPING_PAUSE_MS);
    });
    document.getElementById("search-form").addEventListener("submit", (event) => {
      event.preventDefault();
      clearTimeout(pause);
      this.reload();
    });
    this.category.addEventListener("change", () => this.reload());
    this.more.addEventListener("click", () => this.load(false));
  }

  reload() {
    return this.load(true);
  }

  async load(fresh) {
    const asked = ++this.asked;
    const params = {
      q: this.search.value.trim(),
      category: this.category.value,
      limit: PAGE_ROWS,
      cursor: fresh ? undefined : this.cursor,
    };
    let page;
    try {
      page = await this.api.get("skus", params);
    } catch (error) {
      this.onError(error);
      return;
    }
    if (asked !== this.asked) return; // a newer search has started
    this.grain = page.grain;
    this.offerCategories(page.categories);
    if (fresh) this.list.replaceChildren();
    this.list.append(...page.rows.map((sku) => this.item(sku)));
    if (fresh && !page.rows.length) {
      this.list.append(element("li", { text: "No SKU matches.", className: "empty" }));
    }
    this.cursor = page.next_cursor;
    this.more.hidden = !page.next_cursor;
    this.onLoaded();
  }

  offerCategories(categories) {
    const shown = [...this.category.options].slice(1).map((option) => option.value);
    if (shown.join("\n") === categories.join("\n")) return;
    const chosen = this.category.value;
    this.category.replaceChildren(
      element("option", { text: "All", attributes: { value: "" } }),
      ...categories.map((name) => element("option", { text: name, attributes: { value: name } })),
    );
    this.category.value = categories.includes(chosen) ? chosen : "";
  }

  item(sku) {
    const method = sku.members ? `${sku.method} of ${sku.members.join(", ")}` : sku.method;
    const edits = sku.edit_count === 1 ? "1 edit" : `${sku.edit_count} edits`;
    const button = element("button", { className: "sku", attributes: { type: "button", "data-sku": sku.sku_id } }, [
      element("span", { text: sku.sku_id, className: "sku-id" }),
      element("span", { text: sku.sku_name ?? "", className: "sku-name" }),
      element("span", {
        text: `${sku.category ?? "no category"} · ${method} · WAPE ${formatShare(sku.wape)} · ${edits}`,
        className: "sku-facts",
      }),
    ]);
    button.addEventListener("click", () => {
      for (const other of this.list.querySelectorAll("[aria-current]")) other.removeAttribute("aria-current");
      button.setAttribute("aria-current", "true");
      this.onOpen(sku);
    });
    return element("li", {}, [button]);
  }

  // After an edit, the SKU's count follows.
  setEditCount(skuId, count) {
    const facts = this.list.querySelector(`[data-sku="${CSS.escape(skuId)}"] .sku-facts`);
    if (facts) facts.textContent = facts.textContent.replace(/\d+ edits?$/, count === 1 ? "1 edit" : `${count} edits`);
  }
}
