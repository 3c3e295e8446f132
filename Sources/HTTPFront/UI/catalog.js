// The package catalog: one table row per package, built once when the catalog loads; the
// text filter, the namespace filter and the sort only hide, show and reorder those rows.
// Beside it, the selection, with one optional version per package.

import { compatibilityPath } from "./api.js";

/** A DOM id for a package path, one-to-one: "pkg-github_2ecom_2fx_2fy" (not letters and digits: _ + hex). */
export function domID(prefix, path) {
  return prefix + "-" + path.replace(/[^A-Za-z0-9]/g, (c) => "_" + c.charCodeAt(0).toString(16).padStart(2, "0"));
}

/** A module ID's namespace: the ID without its last segment ("dns.providers.cloudflare" → "dns.providers"). */
export function namespace(id) {
  const dot = id.lastIndexOf(".");
  return dot > 0 ? id.slice(0, dot) : "";
}

const count = (n) => Number(n || 0).toLocaleString("en-US");

/** Lower-case text a package is searched by: path, module names and docs. */
function haystack(pkg) {
  const modules = (pkg.modules || []).map((m) => `${m.name || ""} ${m.docs || ""}`).join(" ");
  return `${pkg.path} ${modules}`.toLowerCase();
}

/** The first paragraph of a package's documentation (from its first module that has some), on one line. */
function summary(pkg) {
  const docs = (pkg.modules || []).map((m) => m.docs).find((d) => d && d.trim());
  return docs ? docs.trim().split(/\n\s*\n/)[0].replace(/\s+/g, " ") : "";
}

/** What the catalog is ordered by: `popularity` from a server that has it, else `downloads`. */
function popularity(pkg) {
  return Number(pkg.popularity ?? pkg.downloads ?? 0);
}

const KEY_STEPS = { ArrowDown: 1, ArrowUp: -1, PageDown: 10, PageUp: -10, End: Infinity, Home: -Infinity };

export class Catalog {
  /**
   * @param elements {search, namespace, sort, table, rows, count, selected, selectedCount, selectedEmpty}
   * @param onChange called after the selection or a version changes
   */
  constructor(elements, onChange) {
    this.el = elements;
    this.onChange = onChange;
    /** One entry per package: `{pkg, index, text, name, namespaces, row, box, shown}`. */
    this.entries = [];
    this.byPath = new Map();
    this.order = { popularity: [], name: [] };
    /** path → version ("" = latest), in the order they were selected. */
    this.selection = new Map();
    /** The entry whose checkbox is the table's one Tab stop (the rest move by arrow keys). */
    this.active = null;
    this.filterRuns = 0;
    this.el.search.addEventListener("input", () => this.filter());
    this.el.namespace.addEventListener("change", () => this.filter());
    this.el.sort.addEventListener("change", () => {
      this.arrange();
      this.filter();
    });
    this.el.rows.addEventListener("change", (event) => {
      const box = event.target;
      if (box.type === "checkbox") this.toggle(box.dataset.path, box.checked);
    });
    this.el.rows.addEventListener("keydown", (event) => this.key(event));
    this.el.rows.addEventListener("focusin", (event) => {
      const entry = this.byPath.get(event.target.closest("tr")?.dataset.path);
      if (entry) this.setActive(entry);
    });
  }

  /** Shows `packages` (in the API's order, most popular first), keeping the selection and filters. */
  load(packages) {
    this.entries = packages.map((pkg, index) => ({
      pkg,
      index,
      text: haystack(pkg),
      name: pkg.path.toLowerCase(),
      namespaces: new Set((pkg.modules || []).map((m) => namespace(m.name || "")).filter(Boolean)),
      row: null,
      box: null,
      shown: true,
    }));
    this.byPath = new Map(this.entries.map((e) => [e.pkg.path, e]));
    this.active = null;
    this.sortOrders();
    this.el.table.classList.toggle("no-last-build", !packages.some((p) => "last_build" in p));
    const fragment = document.createDocumentFragment();
    for (const entry of this.order.popularity) {
      entry.row = this.row(entry);
      fragment.append(entry.row);
    }
    this.el.rows.replaceChildren(fragment);
    this.fillNamespaces();
    this.arrange();
    this.filter();
    this.renderSelection();
  }

  /** Takes new counts and last builds from a fresh `/api/packages`, rebuilding only the cells
   * that show them (the whole table when the set of packages changed). */
  update(packages) {
    if (packages.length !== this.entries.length || packages.some((p) => !this.byPath.has(p.path))) {
      this.load(packages);
      return;
    }
    for (const [index, pkg] of packages.entries()) {
      const entry = this.byPath.get(pkg.path);
      entry.pkg = pkg;
      entry.index = index;
      entry.row.cells[2].replaceChildren(...this.popularityCell(pkg));
      entry.row.cells[3].replaceChildren(...this.lastBuildCell(pkg));
    }
    this.sortOrders();
    this.arrange();
  }

  sortOrders() {
    this.order.popularity = [...this.entries].sort((a, b) => popularity(b.pkg) - popularity(a.pkg) || a.index - b.index);
    this.order.name = [...this.entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.index - b.index));
  }

  /** The namespace filter's options: every namespace the catalog's module IDs have, with counts. */
  fillNamespaces() {
    const counts = new Map();
    for (const entry of this.entries) {
      for (const ns of entry.namespaces) counts.set(ns, (counts.get(ns) || 0) + 1);
    }
    const select = this.el.namespace;
    const wanted = select.value;
    const all = document.createElement("option");
    all.value = "";
    all.textContent = `All namespaces (${count(this.entries.length)})`;
    const options = [all];
    for (const ns of [...counts.keys()].sort()) {
      const option = document.createElement("option");
      option.value = ns;
      option.textContent = `${ns} (${count(counts.get(ns))})`;
      options.push(option);
    }
    select.replaceChildren(...options);
    select.value = counts.has(wanted) ? wanted : "";
  }

  /** Puts the rows in the chosen order (moving the existing rows, in one DOM update). */
  arrange() {
    const order = this.order[this.el.sort.value] || this.order.popularity;
    const rows = this.el.rows;
    if (order.every((entry, i) => rows.children[i] === entry.row)) return;
    const fragment = document.createDocumentFragment();
    for (const entry of order) fragment.append(entry.row);
    rows.append(fragment);
  }

  /**
   * Shows the rows that match the search words (all of them, anywhere in the path, module
   * names or docs) and the namespace, by toggling `hidden` on the rows that change. The time
   * it takes, style and layout included, is kept in the table's `data-filter-ms`.
   */
  filter() {
    const start = performance.now();
    const query = this.el.search.value.trim();
    const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
    const ns = this.el.namespace.value;
    let shown = 0;
    for (const entry of this.entries) {
      const show = (!ns || entry.namespaces.has(ns)) && terms.every((t) => entry.text.includes(t));
      if (show !== entry.shown) {
        entry.shown = show;
        entry.row.hidden = !show;
      }
      if (show) shown += 1;
    }
    if (!this.active || !this.active.shown) this.setActive(this.firstShown());
    const total = this.entries.length;
    const order = this.el.sort.value === "name" ? "by name" : "most popular first";
    this.el.count.textContent = !query && !ns
      ? `${count(total)} packages, ${order}`
      : `${count(shown)} of ${count(total)} packages` + (query ? ` match “${query}”` : "") + (ns ? ` in ${ns}` : "");
    void this.el.table.offsetHeight; // lay the rows out now, so the time below includes it
    this.filterRuns += 1;
    this.el.table.dataset.filterMs = (performance.now() - start).toFixed(2);
    this.el.table.dataset.filterRuns = String(this.filterRuns);
  }

  /** The first row shown, in the current order. */
  firstShown() {
    for (const row of this.el.rows.children) {
      if (!row.hidden) return this.byPath.get(row.dataset.path);
    }
    return null;
  }

  setActive(entry) {
    if (entry === this.active) return;
    if (this.active) this.active.box.tabIndex = -1;
    this.active = entry;
    if (entry) entry.box.tabIndex = 0;
  }

  /** Arrow keys, Page Up/Down, Home and End move between the rows shown; → and ← between a
   * row's checkbox and its last-build link. */
  key(event) {
    const row = event.target.closest("tr");
    if (!row || event.altKey || event.ctrlKey || event.metaKey) return;
    const link = row.querySelector("a");
    if (event.key === "ArrowRight" && link && event.target !== link) {
      event.preventDefault();
      link.focus();
      return;
    }
    if (event.key === "ArrowLeft" && event.target === link) {
      event.preventDefault();
      row.querySelector("input").focus();
      return;
    }
    const step = KEY_STEPS[event.key];
    if (!step) return;
    event.preventDefault();
    const forward = step > 0;
    let target = row;
    let moves = Math.abs(step);
    for (let next = row; moves > 0;) {
      next = forward ? next.nextElementSibling : next.previousElementSibling;
      if (!next) break;
      if (!next.hidden) {
        target = next;
        moves -= 1;
      }
    }
    target.querySelector("input").focus();
  }

  row(entry) {
    const pkg = entry.pkg;
    const tr = document.createElement("tr");
    tr.setAttribute("role", "row");
    tr.dataset.path = pkg.path;
    if (this.selection.has(pkg.path)) tr.className = "chosen";

    const first = document.createElement("td");
    first.className = "pkg";
    const id = domID("pkg", pkg.path);
    const box = document.createElement("input");
    box.type = "checkbox";
    box.id = id;
    box.tabIndex = -1;
    box.dataset.path = pkg.path;
    box.checked = this.selection.has(pkg.path);
    entry.box = box;
    const label = document.createElement("label");
    label.htmlFor = id;
    const path = document.createElement("span");
    path.className = "path";
    path.textContent = pkg.path;
    label.append(path);
    const names = (pkg.modules || []).map((m) => m.name).filter(Boolean).join(", ");
    if (names) {
      const ids = document.createElement("span");
      ids.className = "ids";
      ids.textContent = names;
      ids.title = names;
      label.append(ids);
    }
    first.append(box, label);

    const docs = document.createElement("td");
    docs.className = "docs";
    docs.textContent = summary(pkg);
    if (docs.textContent) docs.title = docs.textContent;

    const pop = document.createElement("td");
    pop.className = "pop";
    pop.append(...this.popularityCell(pkg));
    const last = document.createElement("td");
    last.className = "last";
    last.append(...this.lastBuildCell(pkg));
    for (const cell of [first, docs, pop, last]) cell.setAttribute("role", "cell");
    tr.append(first, docs, pop, last);
    return tr;
  }

  /** "4,200 upstream · 3 here" (a server that counts its own downloads apart), else "12 downloads". */
  popularityCell(pkg) {
    const part = (className, text) => {
      const span = document.createElement("span");
      span.className = className;
      span.textContent = text;
      return span;
    };
    if (!("local_downloads" in pkg)) return [part("up", `${count(pkg.downloads)} downloads`)];
    return [part("up", `${count(pkg.downloads)} upstream`), part("sep", " · "), part("here", `${count(pkg.local_downloads)} here`)];
  }

  /** The last build of the package on this server, linked to what its builds taught the server. */
  lastBuildCell(pkg) {
    const last = pkg.last_build;
    if (!last) {
      const none = document.createElement("span");
      none.className = "none";
      none.textContent = "—";
      none.title = "not built on this server yet";
      return [none];
    }
    const state = last.succeeded ? "succeeded" : "failed";
    const link = document.createElement("a");
    link.className = `state ${state}`;
    link.href = compatibilityPath(pkg.path);
    link.tabIndex = -1;
    link.textContent = last.succeeded ? "built" : "failed";
    link.title = `${last.at || ""}${last.error ? `: ${last.error}` : ""} (what builds here taught this server about ${pkg.path})`.trim();
    const what = document.createElement("span");
    what.className = "what";
    what.textContent = [last.version, last.caddy_version && `Caddy ${last.caddy_version}`, last.target].filter(Boolean).join(" · ");
    what.title = what.textContent;
    return [link, what];
  }

  /** Selected packages as `{path, version}` ("" version = latest). */
  selected() {
    return [...this.selection].map(([path, version]) => ({ path, version }));
  }

  setSelection(list) {
    this.selection = new Map(list.map((p) => [p.path, p.version || ""]));
    for (const entry of this.entries) this.mark(entry);
    this.renderSelection();
  }

  toggle(path, on) {
    if (on && !this.selection.has(path)) this.selection.set(path, "");
    if (!on) this.selection.delete(path);
    const entry = this.byPath.get(path);
    if (entry) this.mark(entry);
    this.renderSelection();
    this.onChange();
  }

  /** Pins a selected package to `version` (a suggestion of the plan), as if typed in its field. */
  setVersion(path, version) {
    if (!this.selection.has(path)) return;
    this.selection.set(path, version);
    const input = document.getElementById(domID("ver", path));
    if (input) input.value = version;
    this.onChange();
  }

  /** A row's checkbox and highlight, from the selection. */
  mark(entry) {
    const on = this.selection.has(entry.pkg.path);
    entry.box.checked = on;
    entry.row.classList.toggle("chosen", on);
  }

  renderSelection() {
    const ul = this.el.selected;
    ul.replaceChildren();
    for (const [path, version] of this.selection) {
      const li = document.createElement("li");
      li.dataset.path = path;
      const name = document.createElement("span");
      name.className = "path";
      name.textContent = path;
      if (this.entries.length > 0 && !this.byPath.has(path)) {
        name.title = "not in this server's catalog";
        name.classList.add("unlisted");
      }
      const id = domID("ver", path);
      const label = document.createElement("label");
      label.htmlFor = id;
      label.className = "sr-only";
      label.textContent = `Version of ${path}`;
      const input = document.createElement("input");
      input.id = id;
      input.className = "version";
      input.dataset.path = path;
      input.placeholder = "latest";
      input.value = version;
      input.spellcheck = false;
      input.autocomplete = "off";
      input.addEventListener("input", () => {
        this.selection.set(path, input.value.trim());
        this.onChange();
      });
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "remove";
      remove.textContent = "Remove";
      remove.setAttribute("aria-label", `Remove ${path}`);
      remove.addEventListener("click", () => {
        this.toggle(path, false);
        this.el.search.focus();
      });
      li.append(name, label, input, remove);
      ul.append(li);
    }
    this.el.selectedCount.textContent = String(this.selection.size);
    this.el.selectedEmpty.hidden = this.selection.size > 0;
  }
}
