// The page: loads the catalog, versions and platforms, keeps the selection in the query
// string, shows the dry-run plan of the selection as it changes, starts builds, follows one
// build, and lists recent ones.

import * as api from "./api.js";
import { Catalog, domID } from "./catalog.js";
import { BuildView } from "./log.js";
import * as platform from "./platform.js";

const $ = (id) => document.getElementById(id);

const state = {
  platforms: [],
  buildID: null,
};

const catalog = new Catalog(
  {
    search: $("catalog-search"), namespace: $("catalog-namespace"), sort: $("catalog-sort"),
    table: $("catalog"), rows: $("catalog-rows"), count: $("catalog-count"),
    selected: $("selected"), selectedCount: $("selected-count"), selectedEmpty: $("selected-empty"),
  },
  () => selectionChanged(),
);

const view = new BuildView($("build"), (record) => {
  refreshRecent();
  refreshCatalog();
  schedulePlan(0);
  if (record.state !== "succeeded") $("failure").scrollIntoView({ block: "nearest" });
});

// --- The selection and the URL ----------------------------------------------------------

/** The form's selection: `{os, arch, arm, packages: [{path, version}], version}`. */
function selection() {
  const target = platform.parseTarget($("platform").value) || { os: "linux", arch: "amd64", arm: null };
  return { ...target, packages: catalog.selected(), version: $("caddy-version").value || "latest" };
}

/** The query string for the page: the selection, as the download API spells it, and the build. */
function pageQuery(sel, buildID) {
  const params = new URLSearchParams();
  params.set("os", sel.os);
  params.set("arch", sel.arch);
  if (sel.arm) params.set("arm", String(sel.arm));
  for (const pkg of sel.packages) params.append("p", api.packageSpec(pkg));
  if (sel.version && sel.version !== "latest") params.set("version", sel.version);
  if (buildID) params.set("build", buildID);
  return "?" + params.toString();
}

function writeURL(push = false) {
  const url = window.location.pathname + pageQuery(selection(), state.buildID);
  if (url !== window.location.pathname + window.location.search) {
    (push ? history.pushState : history.replaceState).call(history, null, "", url);
  }
}

/** `{packages, version, target, build}` from the query string. */
function readURL() {
  const params = new URLSearchParams(window.location.search);
  const packages = [];
  for (const p of [...params.getAll("p"), ...params.getAll("p[]")]) {
    const at = p.indexOf("@");
    const path = (at >= 0 ? p.slice(0, at) : p).trim();
    if (path && !packages.some((x) => x.path === path)) packages.push({ path, version: at >= 0 ? p.slice(at + 1).trim() : "" });
  }
  let target = null;
  if (params.get("os") && params.get("arch")) {
    target = { os: params.get("os"), arch: params.get("arch"), arm: null };
    if (target.arch === "arm") target.arm = Number(params.get("arm") || 7);
  }
  return {
    packages,
    version: params.get("version") || params.get("caddy_version") || "latest",
    target,
    build: params.get("build"),
  };
}

function selectionChanged() {
  writeURL();
  const link = api.downloadURL(selection());
  $("share-link").value = link;
  $("share-curl").value = api.curlCommand(link);
  $("form-error").textContent = "";
  schedulePlan();
}

/** The message for a version field that holds no version (sent, the server would refuse it). */
function invalidVersion(sel) {
  const bad = sel.packages.find((p) => p.version && /\s|@/.test(p.version));
  return bad && {
    path: bad.path,
    message: `The version of ${bad.path} (“${bad.version}”) is not a version: use a tag like v1.2.3, or leave it empty for the latest.`,
  };
}

// --- The dry-run plan ------------------------------------------------------------------
// GET /api/download/plan with the query Build would send: exact versions, the Go toolchain,
// whether the binary is cached or being built, and what past builds say about the
// combination. Asked again 250 ms after the last change; a newer change cancels the
// request in flight. The panel shows from the first answer on; a server without the
// endpoint (404) never shows it.

const plan = { timer: 0, controller: null, supported: true };

function schedulePlan(delay = 250) {
  if (!plan.supported) return;
  clearTimeout(plan.timer);
  plan.controller?.abort();
  plan.controller = null;
  const root = $("plan");
  root.dataset.state = "loading";
  root.setAttribute("aria-busy", "true");
  plan.timer = setTimeout(loadPlan, delay);
}

async function loadPlan() {
  const sel = selection();
  const invalid = invalidVersion(sel);
  if (invalid) {
    showPlanError(invalid.message);
    return;
  }
  const controller = new AbortController();
  plan.controller = controller;
  try {
    const result = await api.plan(sel, controller.signal);
    if (plan.controller === controller) showPlan(result, api.downloadQuery(sel));
  } catch (error) {
    if (error.name === "AbortError" || plan.controller !== controller) return;
    if (error.status === 404) {
      plan.supported = false; // an older server: the page works as before, without a plan
      $("plan").hidden = true;
      return;
    }
    showPlanError(error.message);
  } finally {
    if (plan.controller === controller) plan.controller = null;
  }
}

function showPlanError(message) {
  const root = $("plan");
  root.hidden = false;
  root.dataset.state = "error";
  root.removeAttribute("aria-busy");
  delete root.dataset.for;
  $("plan-status").textContent = message;
  $("plan-status").classList.add("error-text");
  $("plan-facts").hidden = true;
  showWarnings([]);
  $("share-pinned-row").hidden = true;
}

/** The plan `result` of the selection whose download query is `query`. */
function showPlan(result, query) {
  const root = $("plan");
  root.hidden = false;
  const status = $("plan-status");
  status.classList.remove("error-text");
  if (result.cached) {
    root.dataset.state = "cached";
    status.textContent = "Cached: Build answers at once with this binary.";
  } else if (result.building) {
    root.dataset.state = "building";
    const b = result.building;
    const link = document.createElement("a");
    link.href = pageQuery(selection(), b.id);
    link.textContent = "follow its log";
    link.dataset.buildId = b.id;
    link.addEventListener("click", (event) => {
      event.preventDefault();
      openBuildByID(b.id, true);
    });
    status.replaceChildren(`Being built now (build ${b.id}, ${b.state}): Build joins it; `, link, ".");
  } else {
    root.dataset.state = "new";
    status.textContent = "New build: nothing is cached for exactly this, so Build compiles it on this server (a minute or more).";
  }
  root.dataset.for = query;
  root.removeAttribute("aria-busy");

  $("plan-facts").hidden = false;
  $("plan-caddy").textContent = result.caddy_version;
  const go = $("plan-go");
  go.replaceChildren(result.go_version || "");
  const tc = result.toolchain;
  const why = tc && (tc.reason || (tc.needed_by ? `${tc.needed_by} needs ${tc.needs}` : ""));
  if (why) {
    const reason = document.createElement("span");
    reason.className = "hint reason";
    reason.textContent = why;
    go.append(reason);
  }
  api.fillPluginList($("plan-plugins"), result.plugins);
  const artifact = result.cached ? result.artifact : null;
  for (const e of root.querySelectorAll(".plan-artifact")) e.hidden = !artifact;
  $("plan-size").textContent = artifact ? api.formatSize(artifact.size) : "";
  $("plan-sha256").textContent = artifact ? artifact.sha256 : "";
  showWarnings(planWarnings(result), result);

  $("share-pinned-row").hidden = !result.download;
  $("share-pinned").value = result.download ? window.location.origin + result.download : "";
}

/** The plan's warnings, each with the compatibility record it comes from (for its suggestion):
 * a warning starts with its record's own sentence. */
function planWarnings(result) {
  const compatibility = result.compatibility || [];
  const items = (result.warnings || []).map((text) => ({
    text,
    record: compatibility.find((c) => c.warning && text.startsWith(c.warning)),
  }));
  for (const record of compatibility) {
    if (record.suggestion && !items.some((item) => item.record === record)) {
      items.push({ text: record.warning || `${record.path} ${record.version} failed with Caddy ${record.caddy_version} before.`, record });
    }
  }
  return items;
}

/** The selected package a compatibility record is about (it may name the module, not the package). */
function selectedPath(path, result) {
  const chosen = new Set(catalog.selected().map((p) => p.path));
  if (chosen.has(path)) return path;
  const plugin = (result.plugins || []).find((p) => p.module === path || p.path === path);
  return plugin && chosen.has(plugin.path) ? plugin.path : null;
}

/** The warnings, in an alert region: rewritten only when they change, so each is announced once. */
function showWarnings(items, result = {}) {
  const box = $("plan-warnings");
  const key = JSON.stringify(items.map((item) => [item.text, item.record?.suggestion || null]));
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  if (!items.length) {
    box.replaceChildren();
    return;
  }
  const ul = document.createElement("ul");
  for (const { text, record } of items) {
    const li = document.createElement("li");
    li.className = "warning";
    const message = document.createElement("span");
    message.textContent = text;
    li.append(message);
    const path = record?.suggestion && selectedPath(record.path, result);
    if (path) {
      const use = document.createElement("button");
      use.type = "button";
      use.className = "use-version";
      use.dataset.path = path;
      use.dataset.version = record.suggestion;
      use.textContent = `Use ${record.suggestion}`;
      use.setAttribute("aria-label", `Use ${record.suggestion} of ${path}`);
      use.title = `the newest version of ${path} known to build with Caddy ${record.caddy_version}`;
      use.addEventListener("click", () => {
        catalog.setVersion(path, record.suggestion);
        document.getElementById(domID("ver", path))?.focus();
      });
      li.append(" ", use);
    }
    ul.append(li);
  }
  box.replaceChildren(ul);
}

// --- Loading --------------------------------------------------------------------------

function showLoadError(where, error) {
  const message = `${where}: ${error.message}`;
  $("form-error").textContent = $("form-error").textContent ? `${$("form-error").textContent} ${message}` : message;
}

async function loadPlatforms(wanted) {
  const select = $("platform");
  state.platforms = await api.platforms();
  select.replaceChildren();
  const groups = new Map();
  for (const t of state.platforms) {
    if (!groups.has(t.os)) {
      const group = document.createElement("optgroup");
      group.label = platform.osName(t.os);
      groups.set(t.os, group);
      select.append(group);
    }
    const option = document.createElement("option");
    option.value = platform.targetValue(t);
    option.textContent = `${platform.osName(t.os)} · ${platform.archLabel(t)}`;
    groups.get(t.os).append(option);
  }
  const has = (value) => state.platforms.some((t) => t.target === value);
  if (wanted && has(platform.formatTarget(wanted))) {
    select.value = platform.formatTarget(wanted);
    $("platform-hint").textContent = "";
    return;
  }
  if (wanted) {
    $("platform-hint").textContent = `${platform.formatTarget(wanted)} from the link is not a target this server builds.`;
  }
  const mine = await platform.detect();
  if (mine && has(platform.formatTarget(mine))) {
    select.value = platform.formatTarget(mine);
    if (!wanted) $("platform-hint").textContent = "Your platform, as your browser reports it.";
  } else {
    select.value = "linux/amd64";
  }
}

async function loadVersions(wanted) {
  const select = $("caddy-version");
  const versions = await api.caddyVersions();
  select.replaceChildren();
  const newestRelease = versions.find((v) => v !== "latest" && !v.includes("-"));
  for (const v of versions) {
    const option = document.createElement("option");
    option.value = v;
    option.textContent = v === "latest" && newestRelease ? `latest (${newestRelease})` : v;
    select.append(option);
  }
  if (wanted && wanted !== "latest") {
    const normalized = wanted.startsWith("v") ? wanted : "v" + wanted;
    if (!versions.includes(normalized)) {
      // A version the list does not show (a pseudo-version): keep it, the server decides.
      const option = document.createElement("option");
      option.value = normalized;
      option.textContent = normalized;
      select.append(option);
    }
    select.value = normalized;
  } else {
    select.value = "latest";
  }
}

async function loadCatalog() {
  try {
    catalog.load(await api.packages());
  } catch (error) {
    $("catalog-count").textContent = `The package catalog is not available: ${error.message}`;
  }
}

/** New download counts and last builds, after a build ended. */
async function refreshCatalog() {
  try {
    catalog.update(await api.packages({ fresh: true }));
  } catch {
    // the counts shown stay; the next finished build tries again
  }
}

// --- Builds ---------------------------------------------------------------------------

async function submit(event) {
  event.preventDefault();
  const button = $("build-button");
  const sel = selection();
  const bad = invalidVersion(sel);
  if (bad) {
    $("form-error").textContent = bad.message;
    document.getElementById(domID("ver", bad.path))?.focus();
    return;
  }
  button.disabled = true;
  $("form-error").textContent = "";
  try {
    const record = await api.startBuild(sel);
    openBuild(record, true);
    refreshRecent();
    schedulePlan(0); // now cached, or being built
  } catch (error) {
    $("form-error").textContent = error.message;
  } finally {
    button.disabled = false;
  }
}

function openBuild(record, push) {
  state.buildID = record.id;
  writeURL(push);
  view.open(record);
  $("build").scrollIntoView({ block: "start", behavior: "smooth" });
}

async function openBuildByID(id, push) {
  try {
    openBuild(await api.build(id), push);
  } catch (error) {
    state.buildID = null;
    writeURL();
    $("form-error").textContent = `Build ${id}: ${error.message}`;
  }
}

function relativeTime(iso) {
  const seconds = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (!Number.isFinite(seconds)) return "";
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

async function refreshRecent() {
  let builds;
  try {
    builds = await api.recentBuilds(20);
  } catch (error) {
    $("recent-empty").hidden = false;
    $("recent-empty").textContent = `Recent builds are not available: ${error.message}`;
    return;
  }
  const rows = $("recent-rows");
  rows.replaceChildren();
  for (const b of builds) {
    const tr = document.createElement("tr");
    if (b.id === state.buildID) tr.className = "current";
    const cell = (text, className) => {
      const td = document.createElement("td");
      td.textContent = text;
      if (className) td.className = className;
      tr.append(td);
      return td;
    };
    const first = cell("", "mono");
    const a = document.createElement("a");
    a.href = "?" + new URLSearchParams({ build: b.id }).toString();
    a.textContent = b.id;
    a.dataset.buildId = b.id;
    a.setAttribute("aria-label", `Open the log of build ${b.id}`);
    a.addEventListener("click", (event) => {
      event.preventDefault();
      openBuildByID(b.id, true);
    });
    first.append(a);
    const stateCell = cell("");
    const badge = document.createElement("span");
    badge.className = `state ${b.state}`;
    badge.textContent = b.cached ? `${b.state} (cache)` : b.state;
    stateCell.append(badge);
    cell(b.target);
    cell(b.caddy_version, "mono");
    cell((b.plugins || []).map((p) => `${p.path}@${p.version}`).join(", ") || "none", "mono plugins");
    const created = cell(relativeTime(b.created_at));
    created.title = b.created_at;
    rows.append(tr);
  }
  $("recent-table").hidden = builds.length === 0;
  $("recent-empty").hidden = builds.length > 0;
  $("recent-empty").textContent = "No builds yet.";
}

// --- Copy buttons ----------------------------------------------------------------------

async function copy(button) {
  const input = $(button.dataset.copy);
  const status = $("copy-status");
  input.focus();
  input.select();
  let done = false;
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(input.value);
      done = true;
    } catch {
      done = false;
    }
  }
  if (!done) {
    try {
      done = document.execCommand("copy");
    } catch {
      done = false;
    }
  }
  const old = button.dataset.label || button.textContent;
  button.dataset.label = old;
  button.textContent = done ? "Copied" : "Press Ctrl+C";
  status.textContent = done ? "Copied to the clipboard." : "The text is selected: press Ctrl+C (⌘C) to copy it.";
  setTimeout(() => { button.textContent = old; }, 2000);
}

// --- Start ------------------------------------------------------------------------------

async function start() {
  const wanted = readURL();
  catalog.setSelection(wanted.packages);
  $("build-form").addEventListener("submit", submit);
  $("platform").addEventListener("change", () => {
    $("platform-hint").textContent = "";
    selectionChanged();
  });
  $("caddy-version").addEventListener("change", selectionChanged);
  $("recent-refresh").addEventListener("click", refreshRecent);
  for (const button of document.querySelectorAll("button[data-copy]")) button.addEventListener("click", () => copy(button));
  window.addEventListener("popstate", () => {
    const id = new URLSearchParams(window.location.search).get("build");
    if (id && id !== state.buildID) {
      openBuildByID(id, false);
    } else if (!id && state.buildID) {
      state.buildID = null;
      view.close();
      $("build").hidden = true;
    }
  });

  if (!(await signedIn())) return;
  await Promise.all([
    loadPlatforms(wanted.target).catch((e) => showLoadError("Platforms", e)),
    loadVersions(wanted.version).catch((e) => showLoadError("Caddy versions", e)),
    loadCatalog(),
  ]);
  selectionChanged();
  if (wanted.build) await openBuildByID(wanted.build, false);
  await refreshRecent();
  setInterval(() => {
    if (document.visibilityState === "visible") refreshRecent();
  }, 15000);
  document.documentElement.dataset.ready = "true";
}

/** A private server: asks for the pull token until one is accepted; true when the page may go on. */
async function signedIn() {
  let current;
  try {
    current = await api.session();
  } catch {
    return true; // an older or unreachable server: the loads below report what is wrong
  }
  if (!current.private || current.authorized) return true;
  const form = $("token-form");
  $("build-form").hidden = true;
  form.hidden = false;
  $("token-input").focus();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    $("token-error").textContent = "";
    try {
      await api.login($("token-input").value.trim());
      window.location.reload();
    } catch (error) {
      $("token-error").textContent = error.message;
      $("token-input").select();
    }
  });
  document.documentElement.dataset.ready = "true";
  return false;
}

start();
