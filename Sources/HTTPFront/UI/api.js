// The public API, as the page uses it. Nothing here is private to the UI: every call is
// one a script could make (see docs/api.md).

/** An error from the API, with the message of its JSON error body when it has one. */
export class APIError extends Error {
  constructor(status, message, id) {
    super(message);
    this.status = status;
    this.id = id;
  }
}

async function request(path, options = {}) {
  let response;
  try {
    // X-Prox-UI: a private server answers 401 without a basic-auth challenge, so the
    // browser does not pop up its own login box; the page asks for the token itself.
    response = await fetch(path, { ...options, headers: { Accept: "application/json", "X-Prox-UI": "1", ...(options.headers || {}) } });
  } catch (error) {
    if (error.name === "AbortError") throw error; // the caller cancelled it: not a failure
    throw new APIError(0, `the server cannot be reached (${error.message}): check that proxhub is running, then retry`);
  }
  let body = null;
  const text = await response.text();
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
  }
  if (!response.ok) {
    const detail = body && body.error;
    const message = detail && detail.message ? detail.message : `${response.status} ${response.statusText}`.trim();
    throw new APIError(response.status, message, detail && detail.id);
  }
  return body;
}

/** `GET /api/session`: `{private, authorized}`: whether this server needs a pull token, and
 * whether this browser session has one it accepts. */
export async function session() {
  return (await request("/api/session")).result;
}

/** `POST /api/session`: hands in a pull token; the server keeps it in an HttpOnly session
 * cookie that every later request of this page carries (logs and downloads included). */
export async function login(token) {
  return (await request("/api/session", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token }),
  })).result;
}

/** `/api/signing-key`: the keys artifacts are signed with, the current one first. */
export async function signingKeys() {
  return (await request("/api/signing-key")).result;
}

/** The minisign command that checks a downloaded binary and its `.minisig`. */
export function verifyCommand(fileName, minisignKey) {
  return `minisign -Vm ${fileName} -x ${fileName}.minisig -P ${minisignKey}`;
}

/** `/api/packages`: the catalog, most popular first (`fresh`: past the browser's cache, to
 * see counts and last builds that changed since the page loaded). */
export async function packages({ fresh = false } = {}) {
  return (await request("/api/packages", fresh ? { cache: "no-cache" } : {})).result;
}

/** `GET /api/packages/{path}/compatibility`: what this server's builds taught it about a package. */
export function compatibilityPath(path) {
  return "/api/packages/" + path.split("/").map(encode).join("/") + "/compatibility";
}

/** `GET /api/download/plan?…`: what `/api/download` would build or serve for `selection`,
 * resolved without building. `signal` cancels it (an AbortError then). */
export async function plan(selection, signal) {
  return (await request("/api/download/plan?" + downloadQuery(selection), { signal })).result;
}

/** `/api/caddy_versions`: `"latest"`, then every version, newest first. */
export async function caddyVersions() {
  return request("/api/caddy_versions");
}

/** `/api/platforms`: every build target, `{os, arch, arm?, target}`. */
export async function platforms() {
  return (await request("/api/platforms")).result;
}

/** `POST /api/builds`: starts (or joins, or answers from the cache) a build. */
export async function startBuild(selection) {
  const body = {
    os: selection.os,
    arch: selection.arch,
    packages: selection.packages.map(packageSpec),
    version: selection.version,
  };
  if (selection.arm) body.arm = selection.arm;
  return (await request("/api/builds", {
    method: "POST",
    headers: { Accept: "application/json", "Content-Type": "application/json" },
    body: JSON.stringify(body),
  })).result;
}

/** `GET /api/builds/{id}`. */
export async function build(id) {
  return (await request(`/api/builds/${encodeURIComponent(id)}`)).result;
}

/** `GET /api/builds?limit=N`: newest first. */
export async function recentBuilds(limit = 20) {
  return (await request(`/api/builds?limit=${limit}`)).result;
}

/** `path` or `path@version`: a `p=` value. */
export function packageSpec(pkg) {
  return pkg.version ? `${pkg.path}@${pkg.version}` : pkg.path;
}

/** Percent-encodes like the server does (RFC 3986 unreserved characters kept), `'` included. */
export function encode(value) {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

/** The query of the `/api/download` request for a selection (no `?`). */
export function downloadQuery(selection) {
  const items = [["os", selection.os], ["arch", selection.arch]];
  if (selection.arm) items.push(["arm", String(selection.arm)]);
  for (const pkg of selection.packages) items.push(["p", packageSpec(pkg)]);
  if (selection.version && selection.version !== "latest") items.push(["version", selection.version]);
  return items.map(([k, v]) => `${k}=${encode(v)}`).join("&");
}

/** The `/api/download` URL (absolute) for a selection. */
export function downloadURL(selection, origin = window.location.origin) {
  return origin + "/api/download?" + downloadQuery(selection);
}

/** A shell command that downloads `url` to ./caddy, failing on an HTTP error. */
export function curlCommand(url) {
  // The URL is percent-encoded, so it holds no single quote; quote it for the shell anyway.
  return `curl -fLo caddy '${url.replace(/'/g, "'\\''")}'`;
}

/** 41234567 → "39.3 MiB (41,234,567 bytes)". */
export function formatSize(bytes) {
  const units = ["bytes", "KiB", "MiB", "GiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const exact = `${bytes.toLocaleString("en-US")} bytes`;
  return unit === 0 ? exact : `${value.toFixed(1)} ${units[unit]} (${exact})`;
}

/** Fills a list with a build's (or a plan's) exact plugins: "path version", the module when
 * it is not the path, the replacement; "none" for plain Caddy. */
export function fillPluginList(list, plugins) {
  list.replaceChildren();
  for (const p of plugins || []) {
    const li = document.createElement("li");
    li.dataset.path = p.path;
    li.textContent = `${p.path} ${p.version}` + (p.module && p.module !== p.path ? ` (module ${p.module})` : "")
      + (p.replacement ? ` ⇒ ${p.replacement}` : "");
    list.append(li);
  }
  if (!list.childElementCount) {
    const li = document.createElement("li");
    li.textContent = "none";
    list.append(li);
  }
}
