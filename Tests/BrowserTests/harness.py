"""The live system the browser tests drive: the fixture module proxy (slow where a test
needs a build to take a while), a proxhub process on a free 127.0.0.1 port (or, for hub
mode, a redis-server, `proxhub --hub` and a proxagent), and headless Chromium through
chromedriver. Everything binds 127.0.0.1 and is stopped at the end.

Environment:
  PROX_PROXHUB   the proxhub executable (default: `swift build --show-bin-path`/proxhub)
  PROX_PROXAGENT the proxagent executable (default: the one beside proxhub)
  PROX_TEST_REDIS_SERVER  redis-server (default: on PATH, else /usr/bin/redis-server)
  PROX_TEST_GO   the go command (default: /usr/lib/go-1.23/bin/go, else go on PATH)
  PROX_CHROMIUM, PROX_CHROMEDRIVER   default /usr/bin/chromium, /usr/bin/chromedriver
  PROX_TEST_OUTPUT   where screenshots and logs go (default: <repo>/test-output/browser)
  PROX_UI_DIR    a directory to serve `/` and `/ui/*` from instead of the files compiled into
                 proxhub (e.g. Sources/HTTPFront/UI, to try a change to the page without
                 rebuilding): the browser then talks to a small proxy in front of proxhub
                 (FrontProxy)
"""

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUTPUT = os.environ.get("PROX_TEST_OUTPUT") or os.path.join(REPO, "test-output", "browser")

# The fixture proxy serves these module zips slowly, so their builds last long enough to
# watch: lines arrive while the build is still in `go get`, and a reload lands mid-build.
SLOW_ZIPS = {
    "github.com/proxfixture/hello/@v/v0.1.0.zip": 6,
    "github.com/proxfixture/hello/@v/v0.2.0.zip": 10,
    "github.com/!prox!fixture/!upper!case/@v/v1.0.0.zip": 15,
}


def go_command():
    go = os.environ.get("PROX_TEST_GO")
    if go:
        return go
    if os.access("/usr/lib/go-1.23/bin/go", os.X_OK):
        return "/usr/lib/go-1.23/bin/go"
    found = shutil.which("go")
    if not found:
        raise RuntimeError("no go command: run scripts/setup-debian.sh or set PROX_TEST_GO")
    return found


def proxagent_path():
    path = os.environ.get("PROX_PROXAGENT") or os.path.join(os.path.dirname(proxhub_path()), "proxagent")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"{path} is not built: run `swift build --product proxagent` (or set PROX_PROXAGENT)")
    return path


def redis_server_path():
    path = os.environ.get("PROX_TEST_REDIS_SERVER") or shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.access(path, os.X_OK):
        raise RuntimeError("redis-server not found: run scripts/setup-debian.sh (or set PROX_TEST_REDIS_SERVER)")
    return path


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env():
    """This process's environment without PB_* settings, GOPROXY or GOFLAGS; GOSUMDB off."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PB_") and k not in ("GOPROXY", "GOFLAGS")}
    env["GOSUMDB"] = "off"  # the fixture's modules are not in the public checksum database
    return env


def proxhub_path():
    path = os.environ.get("PROX_PROXHUB")
    if not path:
        bin_dir = subprocess.run(
            ["swift", "build", "--show-bin-path"], cwd=REPO, check=True, capture_output=True, text=True
        ).stdout.strip()
        path = os.path.join(bin_dir, "proxhub")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"{path} is not built: run `swift build --product proxhub` (or set PROX_PROXHUB)")
    return path


def read_line_with(process, pattern, timeout, log):
    """Reads `process`'s stdout until a line matches `pattern`; every line goes to `log`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            if process.poll() is not None:
                break
            continue
        log.write(line)
        log.flush()
        match = re.search(pattern, line)
        if match:
            return match
    raise RuntimeError(f"{process.args[0]} did not print {pattern!r} within {timeout} s (see {log.name})")


def pump(process, log):
    """Copies the rest of `process`'s output to `log` on a thread (so its pipe never fills)."""
    import threading

    def run():
        for line in process.stdout:
            log.write(line)
            log.flush()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def stop(process, grace=10):
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class LiveProx:
    """Fixture proxy + proxhub, started by `start()`, stopped by `stop()`."""

    LOG_PREFIX = ""  # of the server logs in OUTPUT
    OLDER_API = False  # True: the browser sees a proxhub from before the plan (FrontProxy)

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="prox-browser-")
        self.proxy = None
        self.hub = None
        self.base = None
        self.logs = []
        self.pump = None
        self.front = None  # a FrontProxy, when PROX_UI_DIR or OLDER_API asks for one
        self.hub_port = None

    def start(self):
        os.makedirs(OUTPUT, exist_ok=True)
        fixture = os.path.join(self.root, "fixture")
        subprocess.run([sys.executable, os.path.join(REPO, "scripts", "make-fixture-proxy.py"), fixture],
                       check=True, stdout=subprocess.DEVNULL)

        proxy_log = open(os.path.join(OUTPUT, self.LOG_PREFIX + "module-proxy.log"), "w")
        self.logs.append(proxy_log)
        delays = [a for path, seconds in SLOW_ZIPS.items() for a in ("--delay-zip", f"{path}={seconds}")]
        self.proxy = subprocess.Popen(
            [sys.executable, "-u", os.path.join(REPO, "scripts", "module-proxy.py"), os.path.join(fixture, "proxy"),
             "--port", "0", *delays],
            stdout=subprocess.PIPE, stderr=proxy_log, stdin=subprocess.DEVNULL, text=True,
        )
        port = read_line_with(self.proxy, r"listening on 127\.0\.0\.1:(\d+)", 20, proxy_log).group(1)
        self.goproxy = f"http://127.0.0.1:{port}"
        self.fixture = fixture
        self.hub_log = open(os.path.join(OUTPUT, self.LOG_PREFIX + "proxhub.log"), "w")
        self.logs.append(self.hub_log)
        self.start_hub(0)
        return self

    def start_hub(self, port):
        """Starts proxhub on `port` (0: a free one) over the data directory, and waits until
        its catalog is loaded."""
        self.hub = subprocess.Popen(
            [proxhub_path(), "--webserver-host", "127.0.0.1", "--webserver-port", str(port),
             "--binary-path", os.path.join(self.root, "data"), "--go", go_command(), "--goproxy", self.goproxy,
             "--package-endpoint", "file://" + self.packages_path(),
             # The suite starts more builds from 127.0.0.1 than the per-client defaults allow.
             "--client-build-rate", "0", "--client-concurrent-builds", "0", *self.hub_arguments()],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, env=child_env(),
            start_new_session=True,  # its own process group: crash_hub kills its go commands too
        )
        port = read_line_with(self.hub, r"listening on 127\.0\.0\.1:(\d+)", 120, self.hub_log).group(1)
        self.pump = pump(self.hub, self.hub_log)
        self.hub_port = int(port)
        self.base = f"http://127.0.0.1:{port}"
        if os.environ.get("PROX_UI_DIR") or self.OLDER_API:
            if self.front is None:
                self.front = FrontProxy(self.hub_port, os.environ.get("PROX_UI_DIR"), self.OLDER_API)
            self.base = self.front.base
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the catalog is loaded from the file:// endpoint
            try:
                if json.loads(self.get("/healthz"))["catalog_loaded"]:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("proxhub did not load the fixture catalog within 60 s")

    def hub_arguments(self):
        """More proxhub flags (hub mode adds its own)."""
        return []

    def packages_path(self):
        """The catalog file proxhub reads (`--package-endpoint file://…`): the fixture's."""
        return os.path.join(self.fixture, "packages.json")

    def crash_hub(self):
        """SIGKILLs proxhub and the go commands it started (its process group), as a crash
        of the host would; returns its port for `start_hub`."""
        port = self.hub_port
        os.killpg(self.hub.pid, signal.SIGKILL)
        self.hub.wait()
        self.pump.join(10)
        self.hub.stdout.close()
        return port

    def get(self, path, timeout=60):
        with urllib.request.urlopen(self.base + path, timeout=timeout) as response:
            return response.read()

    def stop(self):
        if self.front:
            self.front.stop()
        stop(self.hub, grace=30)
        stop(self.proxy)
        if self.pump:
            self.pump.join(10)  # the rest of proxhub's output, up to its exit
        for stream in [self.hub and self.hub.stdout, self.proxy and self.proxy.stdout]:
            if stream:
                stream.close()
        for log in self.logs:
            log.close()
        shutil.rmtree(self.root, ignore_errors=True)


# Synthetic catalog entries: module namespaces with their share of the packages, and words
# for names and docs. Real catalogs are mostly DNS providers and HTTP handlers.
NAMESPACES = [
    ("dns.providers", 30), ("http.handlers", 24), ("http.matchers", 8), ("caddy.storage", 6),
    ("caddy.logging.encoders", 4), ("caddy.logging.writers", 3), ("tls.issuance", 4), ("tls.get_certificate", 2),
    ("layer4.handlers", 5), ("layer4.matchers", 3), ("http.reverse_proxy.upstreams", 4),
    ("http.authentication.providers", 3), ("events.handlers", 2), ("caddy.listeners", 2),
]
WORDS = [
    "acme", "alpine", "amber", "aurora", "beacon", "birch", "cascade", "cedar", "cloud", "cobalt", "comet",
    "coral", "delta", "dune", "echo", "ember", "falcon", "fern", "fjord", "flint", "glacier", "granite", "harbor",
    "hazel", "indigo", "iris", "jade", "juniper", "kestrel", "lagoon", "lumen", "maple", "meadow", "mesa", "nimbus",
    "nova", "oak", "onyx", "orbit", "pebble", "pine", "prairie", "quartz", "raven", "reef", "ridge", "saffron",
    "sierra", "slate", "sparrow", "summit", "tide", "timber", "topaz", "tundra", "umber", "valley", "vertex",
    "willow", "zephyr",
]
DOCS = {
    "dns.providers": "{Name} DNS provider for Caddy: manages DNS records with the {Name} API, for the ACME DNS challenge.",
    "http.handlers": "{Name} is an HTTP handler that rewrites, filters or answers requests before they reach the upstream.",
    "http.matchers": "Matches requests by {name} attributes, for use in routes and named matchers.",
    "caddy.storage": "Stores certificates and locks in {Name}, so several Caddy instances share them.",
    "caddy.logging.encoders": "Encodes log entries in the {name} format.",
    "caddy.logging.writers": "Writes logs to {Name}.",
    "tls.issuance": "Gets certificates from the {Name} certificate authority.",
    "tls.get_certificate": "Loads certificates on demand from {Name}.",
    "layer4.handlers": "A layer 4 handler that proxies {name} connections.",
    "layer4.matchers": "Matches {name} connections at layer 4.",
    "http.reverse_proxy.upstreams": "Finds reverse proxy upstreams through {Name} service discovery.",
    "http.authentication.providers": "Authenticates HTTP requests against {Name}.",
    "events.handlers": "Runs {name} actions when Caddy emits events.",
    "caddy.listeners": "Wraps listeners with {name} support.",
}


def write_scaled_catalog(source, target, total=1000, seed=15):
    """Writes to `target` the catalog `source` (the fixture's packages.json, kept as is, so
    its packages still build) plus synthetic packages up to `total`: names from WORDS,
    module IDs spread over NAMESPACES (some packages with two modules), docs for most, and
    upstream download counts from 0 to ~300,000 (long-tailed). Returns the packages."""
    with open(source) as f:
        packages = json.load(f)["result"]
    rng = random.Random(seed)
    weights = [w for _, w in NAMESPACES]
    names = [ns for ns, _ in NAMESPACES]
    n = 0
    while len(packages) < total:
        n += 1
        first, second = rng.choice(WORDS), rng.choice(WORDS)
        ns = rng.choices(names, weights)[0]
        word = f"{first}{second}{n}" if ns == "dns.providers" else f"{first}_{second}{n}"
        if ns == "dns.providers":
            path = f"github.com/caddy-dns-scale/{first}{second}{n}"
        elif rng.random() < 0.15:
            path = f"github.com/{first}-labs/caddy-plugins-{second}/modules/{ns.split('.')[-1]}/{first}{n}"
        else:
            path = f"github.com/{first}{second}/caddy-{ns.split('.')[0]}-{second}{n}"
        ids = [f"{ns}.{word}"]
        if rng.random() < 0.1:
            other = rng.choices(names, weights)[0]
            if other != ns:
                ids.append(f"{other}.{word}")
        has_docs = rng.random() < 0.8
        modules = [{"name": i, "package": path, "repo": "https://" + path,
                    "docs": DOCS[namespace(i)].format(Name=first.title(), name=first) if has_docs else ""}
                   for i in ids]
        packages.append({
            "id": f"00000000-0000-4000-9000-{n:012d}", "path": path,
            "published": "2024-01-01T00:00:00Z", "updated": "2024-06-01T00:00:00Z",
            "listed": True, "available": True, "downloads": int(10 ** rng.uniform(0, 5.5)) if rng.random() < 0.95 else 0,
            "repo": "https://" + path, "modules": modules,
        })
    with open(target, "w") as f:
        json.dump({"status_code": 200, "result": packages}, f)
    return packages


def namespace(module_id):
    """A module ID without its last segment ("dns.providers.x" → "dns.providers"), as the page groups them."""
    return module_id.rsplit(".", 1)[0] if "." in module_id else ""


class ScaledProx(LiveProx):
    """LiveProx with a catalog of `TOTAL` packages: the fixture's and synthetic ones."""

    TOTAL = 1000
    LOG_PREFIX = "scaled-"

    def packages_path(self):
        path = os.path.join(self.root, "scaled-packages.json")
        if not os.path.exists(path):
            write_scaled_catalog(super().packages_path(), path, self.TOTAL)
        return path


class FrontProxy:
    """A small HTTP proxy on a free 127.0.0.1 port in front of proxhub on `hub_port`: passes
    every request on (streams included), except that
    - with `ui_dir` (PROX_UI_DIR) it serves `/` and `/ui/*` from that directory, with
      proxhub's headers: to try the page without rebuilding proxhub (the suite's results
      count against proxhub's own files);
    - with `older_api` it answers like a proxhub from before the dry-run plan: 404 for
      `/api/download/plan` and `/api/packages/{path}/compatibility`, and `/api/packages`
      without `local_downloads`, `popularity` and `last_build` (`downloads` then this
      server's count, the order by it): how the page degrades is tested against it."""

    TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
             ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
    CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
           "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'")

    def __init__(self, hub_port, ui_dir=None, older_api=False):
        import http.client
        import http.server
        import threading
        front = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                path = self.path.split("?", 1)[0]
                name = "index.html" if path == "/" else path[len("/ui/"):] if path.startswith("/ui/") else None
                if ui_dir and name is not None and "/" not in name and os.path.isfile(os.path.join(ui_dir, name)):
                    with open(os.path.join(ui_dir, name), "rb") as f:
                        body = f.read()
                    headers = {"Content-Type": front.TYPES.get(os.path.splitext(name)[1], "application/octet-stream"),
                               "Cache-Control": "no-cache"}
                    if name == "index.html":
                        headers["Content-Security-Policy"] = front.CSP
                    self.answer(200, headers, body)
                elif older_api and (path == "/api/download/plan" or
                                    (path.startswith("/api/packages/") and path.endswith("/compatibility"))):
                    body = json.dumps({"error": {"id": "req-000000000000", "kind": "notFound",
                                                 "message": f"no such route: {path}"}, "status_code": 404}).encode()
                    self.answer(404, {"Content-Type": "application/json; charset=utf-8"}, body)
                elif older_api and path == "/api/packages":
                    self.old_packages()
                else:
                    self.forward()

            do_HEAD = do_GET

            def do_POST(self):
                self.forward()

            do_PUT = do_DELETE = do_POST

            def answer(self, status, headers, body):
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def old_packages(self):
                connection = http.client.HTTPConnection("127.0.0.1", front.hub_port, timeout=60)
                try:
                    connection.request("GET", self.path, headers={k: v for k, v in self.headers.items()
                                                                  if k.lower() not in ("host", "connection")})
                    response = connection.getresponse()
                    data = json.loads(response.read())
                finally:
                    connection.close()
                if response.status == 200:
                    for p in data["result"]:
                        p["downloads"] = p.pop("local_downloads", 0)
                        p.pop("popularity", None)
                        p.pop("last_build", None)
                    data["result"].sort(key=lambda p: (-p["downloads"], p["path"]))
                self.answer(response.status, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(data).encode())

            def forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                connection = http.client.HTTPConnection("127.0.0.1", front.hub_port, timeout=900)
                try:
                    connection.request(self.command, self.path, body=body, headers=headers)
                    response = connection.getresponse()
                except OSError:
                    self.send_error(502)
                    return
                self.send_response(response.status, response.reason)
                for k, v in response.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection"):
                        self.send_header(k, v)
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    while self.command != "HEAD":
                        chunk = response.read1(65536)
                        if not chunk:
                            break
                        self.wfile.write(chunk)
                        self.wfile.flush()
                except (OSError, http.client.HTTPException):
                    pass  # either side went away (a test crashes proxhub mid-stream)
                finally:
                    connection.close()
                    self.close_connection = True

        self.hub_port = hub_port
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def chromium(download_dir):
    """Headless Chromium that reaches nothing but 127.0.0.1, with its console log kept."""
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not try to download anything
    os.environ.setdefault("SE_AVOID_STATS", "true")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("PROX_CHROMIUM", "/usr/bin/chromium")
    for arg in [
        "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900",
        "--no-first-run", "--no-default-browser-check", "--disable-background-networking", "--disable-sync",
        "--disable-component-update", "--disable-default-apps", "--disable-domain-reliability",
        "--disable-client-side-phishing-detection", "--metrics-recording-only", "--password-store=basic",
        # Any host name but 127.0.0.1 fails to resolve: the browser never targets another address.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ]:
        options.add_argument(arg)
    options.add_experimental_option("prefs", {
        "download.default_directory": download_dir,
        "download.prompt_for_download": False,
        "safebrowsing.enabled": False,
    })
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=os.environ.get("PROX_CHROMEDRIVER", "/usr/bin/chromedriver"),
                      service_args=["--allowed-ips=127.0.0.1"], port=0)
    driver = webdriver.Chrome(options=options, service=service)
    # Downloads in headless mode go where the test says (and are allowed at all).
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": download_dir,
                                                           "eventsEnabled": True})
    return driver


class LiveCluster(LiveProx):
    """Hub mode: a redis-server, `proxhub --hub` and one `proxagent` (2 slots), over the same
    fixture proxy. `stop()` stops the agent, the hub, then Redis."""

    AGENT = "browser-agent"
    LOG_PREFIX = "hub-mode-"

    def __init__(self):
        super().__init__()
        self.redis = None
        self.agent = None
        self.redis_port = None
        self.token = os.urandom(16).hex()

    def start_hub(self, port):
        redis_log = open(os.path.join(OUTPUT, self.LOG_PREFIX + "redis-server.log"), "w")
        self.logs.append(redis_log)
        self.redis_port = free_port()
        self.redis = subprocess.Popen(
            [redis_server_path(), "--bind", "127.0.0.1", "--port", str(self.redis_port), "--save", "",
             "--appendonly", "no", "--dir", self.root, "--protected-mode", "yes"],
            stdout=redis_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while not self._redis_answers():
            if self.redis.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on 127.0.0.1:{self.redis_port} (see {redis_log.name})")
            time.sleep(0.1)
        super().start_hub(port)
        agent_log = open(os.path.join(OUTPUT, self.LOG_PREFIX + "proxagent.log"), "w")
        self.logs.append(agent_log)
        self.agent = subprocess.Popen(
            [proxagent_path(), "--hub-url", f"http://127.0.0.1:{self.hub_port}", "--push-token", self.token, "--redis-host", "127.0.0.1",
             "--redis-port", str(self.redis_port), "--simultaneous-jobs", "2", "--go", go_command(),
             "--goproxy", self.goproxy, "--work-dir", os.path.join(self.root, "agent"), "--agent-name", self.AGENT],
            stdout=agent_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=child_env(),
        )

    def hub_arguments(self):
        return ["--hub", "--redis-host", "127.0.0.1", "--redis-port", str(self.redis_port), "--push-token", self.token]

    def _redis_answers(self):
        import socket
        try:
            with socket.create_connection(("127.0.0.1", self.redis_port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self):
        stop(self.agent, grace=30)
        stop(self.hub, grace=30)
        stop(self.redis)
        super().stop()


class PageHelpers:
    """unittest.TestCase helpers for a page on a `BrowserSession` (the class's `session`)."""

    session = None

    @property
    def driver(self):
        return self.session.driver

    @property
    def base(self):
        return self.session.live.base

    def wait(self, condition, timeout=30, message=""):
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.support.ui import WebDriverWait

        def safe(d):
            try:
                return condition(d)
            except StaleElementReferenceException:
                return False
        return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(safe, message)

    def open(self, query=""):
        self.driver.get(self.base + "/" + query)
        self.wait(lambda d: d.execute_script("return document.documentElement.dataset.ready === 'true'"),
                  message="the page did not finish loading")

    def by_id(self, element_id):
        from selenium.webdriver.common.by import By
        return self.driver.find_element(By.ID, element_id)

    def text(self, element_id):
        return self.by_id(element_id).text

    def api(self, path, method="GET", body=None):
        """The `result` of a JSON API call (raises urllib.error.HTTPError on an error status)."""
        request = urllib.request.Request(self.base + path, method=method, headers={"Content-Type": "application/json"},
                                         data=json.dumps(body).encode() if body is not None else None)
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read())["result"]

    def wait_for_build(self, build_id, timeout=600):
        """The build's record once it has ended."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            record = self.api(f"/api/builds/{build_id}")
            if record["state"] in ("succeeded", "failed", "cancelled"):
                return record
            time.sleep(0.3)
        raise AssertionError(f"build {build_id} did not end within {timeout} s")

    def viewport(self, width, height):
        """Makes the page's viewport exactly width × height CSS pixels (None: back to the window's)."""
        if width is None:
            self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        else:
            self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        time.sleep(0.2)  # let the layout settle

    def visible_paths(self):
        """The catalog rows shown, in order."""
        return self.driver.execute_script(
            "return [...document.querySelectorAll('#catalog-rows tr:not([hidden])')].map(tr => tr.dataset.path)")

    def console_errors(self):
        return self.session.console_errors()


class BrowserSession:
    """A live system (`LiveProx` or `LiveCluster`) and a Chromium driving it, for one test
    module: `start()` in setUpModule, `stop()` in tearDownModule (and on a failed start)."""

    def __init__(self, live):
        self.live = live
        self.downloads = tempfile.mkdtemp(prefix="prox-browser-downloads-")
        self.driver = None

    def start(self):
        try:
            self.live.start()
            self.driver = chromium(self.downloads)
        except BaseException:
            self.stop()  # tearDownModule does not run when setUpModule fails
            raise
        return self

    def stop(self):
        if self.driver is not None:
            self.driver.quit()
        self.live.stop()
        shutil.rmtree(self.downloads, ignore_errors=True)

    def console_errors(self):
        """The browser console's SEVERE entries since the last call."""
        return [e for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]

    def wait_for_download(self, name, timeout=60):
        """The path of downloaded file `name` once complete; AssertionError after `timeout`."""
        path = os.path.join(self.downloads, name)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(path) and not any(n.endswith(".crdownload") for n in os.listdir(self.downloads)):
                return path
            time.sleep(0.2)
        raise AssertionError(f"{name} was not downloaded within {timeout} s: {os.listdir(self.downloads)}")
