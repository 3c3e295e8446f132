// The package catalog: search, the result list with checkboxes, and the selection with
// one optional version per package.

const PAGE = 100;

/** A DOM id for a package path, one-to-one: "pkg-github_2ecom_2fx_2fy" (not letters and digits: _ + hex). */
export function domID(prefix, path) {
  return prefix + "-" + path.replace(/[^A-Za-z0-9]/g, (c) => "_" + c.charCodeAt(0).toString(16).padStart(2, "0"));
}

/** Lower-case text a package is searched by: path, module names and docs. */
function haystack(pkg) {
  const modules = (pkg.modules || []).map((m) => `${m.name || ""} ${m.docs || ""}`).join(" ");
  return `${pkg.path} ${modules}`.toLowerCase();
}

/** The first sentence of a package's documentation (from its first module that has some). */
function summary(pkg) {
  const docs = (pkg.modules || []).map((m) => m.docs).find((d) => d && d.trim());
  if (!docs) return "";
  const line = docs.trim().split(/\n\s*\n/)[0].replace(/\s+/g, " ");
  return line.length > 160 ? line.slice(0, 157) + "…" : line;
}

export class Catalog {
  /**
   * @param elements {search, list, count, more, selected, selectedCount, selectedEmpty}
   * @param onChange called after the selection or a version changes
   */
  constructor(elements, onChange) {
    this.el = elements;
    this.onChange = onChange;
    this.packages = [];
    this.byPath = new Map();
    /** path → version ("" = latest), in the order they were selected. */
    this.selection = new Map();
    this.shown = PAGE;
    this.el.search.addEventListener("input", () => {
      this.shown = PAGE;
      this.render();
    });
    this.el.more.addEventListener("click", () => {
      this.shown += PAGE;
      this.render();
    });
  }

  load(packages) {
    this.packages = packages.map((pkg) => ({ ...pkg, text: haystack(pkg), summary: summary(pkg) }));
    this.byPath = new Map(this.packages.map((pkg) => [pkg.path, pkg]));
    this.render();
    this.renderSelection();
  }

  /** Selected packages as `{path, version}` ("" version = latest). */
  selected() {
    return [...this.selection].map(([path, version]) => ({ path, version }));
  }

  setSelection(list) {
    this.selection = new Map(list.map((p) => [p.path, p.version || ""]));
    this.render();
    this.renderSelection();
  }

  toggle(path, on) {
    if (on && !this.selection.has(path)) this.selection.set(path, "");
    if (!on) this.selection.delete(path);
    this.renderSelection();
    this.syncCheckboxes();
    this.onChange();
  }

  matches() {
    const terms = this.el.search.value.toLowerCase().split(/\s+/).filter(Boolean);
    if (terms.length === 0) return this.packages;
    return this.packages.filter((pkg) => terms.every((t) => pkg.text.includes(t)));
  }

  render() {
    const found = this.matches();
    const list = this.el.list;
    list.replaceChildren();
    const fragment = document.createDocumentFragment();
    for (const pkg of found.slice(0, this.shown)) fragment.append(this.row(pkg));
    list.append(fragment);
    const total = this.packages.length;
    const query = this.el.search.value.trim();
    this.el.count.textContent = query
      ? `${found.length} of ${total} packages match “${query}”` + (found.length > this.shown ? `, showing ${this.shown}` : "")
      : `${total} packages, most downloaded first` + (total > this.shown ? `, showing ${this.shown}` : "");
    this.el.more.hidden = found.length <= this.shown;
  }

  row(pkg) {
    const li = document.createElement("li");
    li.className = "package";
    li.dataset.path = pkg.path;
    const id = domID("pkg", pkg.path);
    const box = document.createElement("input");
    box.type = "checkbox";
    box.id = id;
    box.dataset.path = pkg.path;
    box.checked = this.selection.has(pkg.path);
    box.addEventListener("change", () => this.toggle(pkg.path, box.checked));
    const label = document.createElement("label");
    label.htmlFor = id;
    const path = document.createElement("span");
    path.className = "path";
    path.textContent = pkg.path;
    label.append(path);
    const meta = document.createElement("span");
    meta.className = "pkg-meta";
    const names = (pkg.modules || []).map((m) => m.name).filter(Boolean);
    meta.textContent = [names.join(", "), `${(pkg.downloads || 0).toLocaleString("en-US")} downloads`].filter(Boolean).join(" · ");
    label.append(meta);
    if (pkg.summary) {
      const docs = document.createElement("span");
      docs.className = "docs";
      docs.textContent = pkg.summary;
      label.append(docs);
    }
    li.append(box, label);
    return li;
  }

  syncCheckboxes() {
    for (const box of this.el.list.querySelectorAll("input[type=checkbox]")) {
      box.checked = this.selection.has(box.dataset.path);
    }
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
      if (this.packages.length > 0 && !this.byPath.has(path)) {
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
