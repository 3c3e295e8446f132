// One build's live view: its log over Server-Sent Events (/api/builds/{id}/logs, replayed
// from the first line, then live), its steps, elapsed time, and the result.

import { build, curlCommand, fillPluginList, formatSize, signingKeys, verifyCommand } from "./api.js";
import { formatTarget } from "./platform.js";

const STEP_NAMES = {
  queued: "Queued", resolve: "Resolving versions", prepare: "Preparing", toolchain: "Go toolchain", "mod-init": "go mod init",
  "mod-edit": "go mod edit", get: "go get", tidy: "go mod tidy", build: "go build", verify: "Verifying the binary",
  commit: "Storing in the cache", done: "Done",
};

// Compiler and go command errors; `go: downloading …` and the like are plain lines.
const ERROR_LINE = /\.go:\d+(:\d+)?: |(^|\s)(error|errors|cannot|undefined|fatal|panic)(:|\s|$)|^build failed|^# /i;

function seconds(value) {
  if (value < 60) return `${value.toFixed(1)} s`;
  const m = Math.floor(value / 60);
  return `${m} min ${String(Math.floor(value % 60)).padStart(2, "0")} s`;
}

/** The `X-Prox-Reproduced` header of a provenance response, in words. */
const REPRODUCED = {
  true: "yes: a rebuild from scratch gave the same bytes",
  false: "no: a rebuild from scratch gave other bytes",
  pending: "a rebuild from scratch is under way",
  failed: "the rebuild from scratch did not finish",
  unchecked: "not checked (the server rebuilds a share of new builds only with --verify-rebuilds)",
};

export class BuildView {
  constructor(root, onFinished) {
    this.root = root;
    this.onFinished = onFinished;
    this.$ = (id) => root.querySelector("#" + id);
    this.source = null;
    this.timer = null;
    this.pending = [];
    this.frame = 0;
    this.$("log").addEventListener("scroll", () => {
      const log = this.$("log");
      // Scrolling up stops following; scrolling back to the end resumes it.
      this.$("log-follow").checked = log.scrollHeight - log.scrollTop - log.clientHeight < 24;
    });
  }

  /** Shows build `record` (a Build object) and streams its log from the first line. */
  open(record) {
    this.close();
    this.id = record.id;
    this.lastSeq = 0;
    this.lines = 0;
    this.steps = new Map();
    this.elapsed = 0;
    this.elapsedAt = performance.now();
    this.finished = false;
    this.root.hidden = false;
    this.$("log").replaceChildren();
    this.$("steps").replaceChildren();
    this.$("result").hidden = true;
    this.$("success").hidden = true;
    this.$("failure").hidden = true;
    this.$("build-title").textContent = `Build ${record.id}`;
    this.$("build-step").textContent = "";
    this.$("log-count").textContent = "";
    this.$("log-follow").checked = true;
    this.showRecord(record);
    this.tick();
    this.timer = setInterval(() => this.tick(), 250);
    this.connect();
  }

  close() {
    if (this.source) this.source.close();
    this.source = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  connect() {
    const source = new EventSource(`/api/builds/${encodeURIComponent(this.id)}/logs`);
    this.source = source;
    source.addEventListener("log", (event) => {
      let line;
      try {
        line = JSON.parse(event.data);
      } catch {
        return;
      }
      if (line.seq <= this.lastSeq) return; // a reconnect resumes after Last-Event-ID; never twice
      this.lastSeq = line.seq;
      this.pending.push(line);
      if (!this.frame) this.frame = requestAnimationFrame(() => this.flush());
    });
    source.addEventListener("result", (event) => {
      // The stream ends after its result: close it before the browser reconnects.
      source.close();
      if (this.source === source) this.source = null;
      this.flush();
      let record;
      try {
        record = JSON.parse(event.data);
      } catch {
        return;
      }
      this.finish(record);
    });
    // On `error` the browser reconnects by itself (sending Last-Event-ID) while the build
    // runs. It gives up when the server refuses the stream (the build is no longer known,
    // e.g. after a standalone proxhub restarted): then ask for the build itself.
    source.addEventListener("error", () => {
      if (this.finished || this.source !== source) return;
      if (source.readyState === EventSource.CONNECTING) {
        this.$("build-step").textContent = "reconnecting…";
      } else {
        this.source = null;
        this.recover();
      }
    });
  }

  async recover() {
    const id = this.id;
    try {
      const record = await build(id);
      if (this.id !== id || this.finished) return; // another build was opened meanwhile
      if (["succeeded", "failed", "cancelled"].includes(record.state)) {
        this.flush();
        this.finish(record);
      } else {
        // Still running: follow it again in 2 s (the lines already shown are skipped).
        setTimeout(() => {
          if (this.id === id && !this.finished && !this.source) this.connect();
        }, 2000);
      }
    } catch (error) {
      if (this.id !== id) return;
      this.finished = true;
      this.setState("lost");
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      this.$("build-step").textContent = "";
      this.$("result").hidden = false;
      this.$("failure").hidden = false;
      this.$("failure-message").textContent = `The log stream ended and the build cannot be read: ${error.message}`;
    }
  }

  flush() {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    if (this.pending.length === 0) return;
    const fragment = document.createDocumentFragment();
    for (const line of this.pending) {
      fragment.append(this.lineElement(line));
      this.noteStep(line);
    }
    const last = this.pending[this.pending.length - 1];
    this.pending = [];
    this.elapsed = last.elapsed || 0;
    this.elapsedAt = performance.now();
    const log = this.$("log");
    log.append(fragment);
    this.lines = log.childElementCount;
    this.$("log-count").textContent = `${this.lines} lines`;
    if (!this.finished) {
      this.$("build-step").textContent = STEP_NAMES[last.step] || last.step || "";
      if (this.$("build-state").textContent === "queued" && last.step !== "queued") this.setState("running");
    }
    if (this.$("log-follow").checked) log.scrollTop = log.scrollHeight;
  }

  lineElement(line) {
    const li = document.createElement("li");
    li.className = `line ${line.stream || "info"}`;
    li.dataset.seq = String(line.seq);
    li.dataset.step = line.step || "";
    const text = line.text || "";
    if (line.stream !== "stdout" && ERROR_LINE.test(text) && !text.startsWith("go: downloading")) li.classList.add("error");
    const time = document.createElement("span");
    time.className = "t";
    time.textContent = (line.elapsed || 0).toFixed(1);
    time.setAttribute("aria-hidden", "true");
    const body = document.createElement("span");
    body.className = "text";
    body.textContent = text;
    li.append(time, body);
    return li;
  }

  noteStep(line) {
    const step = line.step;
    if (!step || this.steps.has(step)) return;
    for (const li of this.$("steps").children) li.classList.remove("current");
    const li = document.createElement("li");
    li.className = "current";
    li.textContent = `${STEP_NAMES[step] || step} `;
    const at = document.createElement("span");
    at.className = "t";
    at.textContent = `${(line.elapsed || 0).toFixed(1)} s`;
    li.append(at);
    this.steps.set(step, li);
    this.$("steps").append(li);
  }

  tick() {
    if (this.finished) return;
    const now = this.elapsed + (performance.now() - this.elapsedAt) / 1000;
    this.$("build-elapsed").textContent = seconds(now);
  }

  setState(state) {
    const badge = this.$("build-state");
    badge.textContent = state;
    badge.className = `state ${state}`;
  }

  showRecord(record) {
    this.setState(record.state);
    const plugins = (record.plugins || []).map((p) => `${p.path}@${p.version}`);
    const target = record.target || formatTarget(record);
    this.$("build-summary").textContent =
      `Caddy ${record.caddy_version} for ${target}` + (plugins.length ? ` with ${plugins.join(", ")}` : ", no plugins")
      + (record.cached ? " (from the cache)" : "") + (record.worker && record.worker !== "local" ? ` on agent ${record.worker}` : "");
  }

  /** The key that signed the artifact (its provenance says which), whether a rebuild from
   * scratch reproduced it, and the command that checks it. */
  async showSigningKey(fileName) {
    try {
      const response = await fetch(this.$("provenance-link").href, { headers: { Accept: "application/json", "X-Prox-UI": "1" } });
      const id = response.ok ? response.headers.get("X-Prox-Signing-Key") : null;
      this.$("reproduced").textContent = REPRODUCED[response.ok ? response.headers.get("X-Prox-Reproduced") : null] || "unknown";
      const key = (await signingKeys()).find((k) => k.id === id);
      this.$("signing-key-id").textContent = id || "unknown";
      this.$("verify-command").value = key ? verifyCommand(fileName, key.minisign) : "";
    } catch {
      this.$("signing-key-id").textContent = "unknown";
    }
  }

  finish(record) {
    this.finished = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.showRecord(record);
    for (const li of this.$("steps").children) li.classList.remove("current");
    const total = (record.queued_seconds || 0) + (record.build_seconds || 0);
    this.$("build-elapsed").textContent = total > 0 ? seconds(total) : seconds(this.elapsed);
    this.$("build-step").textContent = record.state === "succeeded" ? "Done" : record.state === "failed" ? "Failed" : record.state;
    this.$("result").hidden = false;
    if (record.state === "succeeded" && record.artifact) {
      const a = record.artifact;
      this.$("success").hidden = false;
      const download = this.$("download");
      download.href = a.url;
      download.setAttribute("download", a.file_name);
      this.$("artifact-file").textContent = a.file_name;
      this.$("artifact-size").textContent = formatSize(a.size);
      this.$("artifact-sha256").textContent = a.sha256;
      this.$("resolved-caddy").textContent = record.caddy_version;
      const tc = record.toolchain;
      this.$("resolved-go").textContent = record.go_version + (tc
        ? ` (${tc.source === "download" ? "downloaded through the module proxy" : "local"}`
          + (tc.needed_by ? `; ${tc.needed_by} needs ${tc.needs}` : "") + ")"
        : "");
      fillPluginList(this.$("resolved-plugins"), record.plugins);
      const link = window.location.origin + record.links.download;
      this.$("exact-link").value = link;
      this.$("exact-curl").value = curlCommand(link);
      this.$("provenance-link").href = record.links.provenance;
      this.$("signature-link").href = record.links.signature;
      this.$("signature-link").setAttribute("download", a.file_name + ".minisig");
      this.showSigningKey(a.file_name);
    } else {
      this.$("failure").hidden = false;
      this.$("failure-message").textContent = record.error ? record.error.message : `the build ended ${record.state}`;
    }
    this.onFinished(record);
  }
}
