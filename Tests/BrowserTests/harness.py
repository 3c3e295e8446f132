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
"""

import json
import os
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

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="prox-browser-")
        self.proxy = None
        self.hub = None
        self.base = None
        self.logs = []
        self.pump = None

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
             "--package-endpoint", "file://" + os.path.join(self.fixture, "packages.json"),
             # The suite starts more builds from 127.0.0.1 than the per-client defaults allow.
             "--client-build-rate", "0", "--client-concurrent-builds", "0", *self.hub_arguments()],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, env=child_env(),
            start_new_session=True,  # its own process group: crash_hub kills its go commands too
        )
        port = read_line_with(self.hub, r"listening on 127\.0\.0\.1:(\d+)", 120, self.hub_log).group(1)
        self.pump = pump(self.hub, self.hub_log)
        self.base = f"http://127.0.0.1:{port}"
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

    def crash_hub(self):
        """SIGKILLs proxhub and the go commands it started (its process group), as a crash
        of the host would; returns its port for `start_hub`."""
        port = int(self.base.rsplit(":", 1)[1])
        os.killpg(self.hub.pid, signal.SIGKILL)
        self.hub.wait()
        self.pump.join(10)
        self.hub.stdout.close()
        return port

    def get(self, path, timeout=60):
        with urllib.request.urlopen(self.base + path, timeout=timeout) as response:
            return response.read()

    def stop(self):
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
            [proxagent_path(), "--hub-url", self.base, "--push-token", self.token, "--redis-host", "127.0.0.1",
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
