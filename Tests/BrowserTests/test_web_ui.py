"""The embedded web UI in a real browser: headless Chromium (Debian's chromium and
chromium-driver, driven by Selenium) against a live proxhub building from the fixture
module proxy. Every test fails on any browser console message of level SEVERE (errors,
uncaught exceptions, failed loads). Screenshots go to test-output/browser/.

Run: python3 -m unittest discover -s Tests/BrowserTests -v   (scripts/test.sh does)
"""

import hashlib
import json
import os
import shlex
import subprocess
import time
import unittest
import urllib.parse
import urllib.request

from harness import OUTPUT, BrowserSession, LiveProx, PageHelpers

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

HELLO = "github.com/proxfixture/hello"
WITHDEP = "github.com/proxfixture/withdep"
BROKEN = "github.com/proxfixture/broken"
FINAL = ("succeeded", "failed", "cancelled")
DESKTOP = (1280, 900)
PHONE = (390, 844)

# The catalog rows shown (not filtered out), in order.
SHOWN = "return [...document.querySelectorAll('#catalog-rows tr:not([hidden])')].map(tr => tr.dataset.path)"


def dom_id(prefix, path):
    """The page's DOM id for a package path (catalog.js domID)."""
    return prefix + "-" + "".join(c if c.isascii() and c.isalnum() else "_%02x" % ord(c) for c in path)


session = None
prox = None
driver = None


def setUpModule():
    global session, prox, driver
    session = BrowserSession(LiveProx()).start()
    prox, driver = session.live, session.driver


def tearDownModule():
    if session is not None:
        session.stop()


class WebUITests(PageHelpers, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.session = session

    def setUp(self):
        driver.set_window_size(*DESKTOP)
        driver.get_log("browser")  # start each test with an empty console log

    def tearDown(self):
        self.assert_no_console_errors()

    # --- helpers ---------------------------------------------------------------------

    def assert_no_console_errors(self):
        self.assertEqual(session.console_errors(), [], "the browser console reported errors")

    def state(self):
        return self.by_id("build-state").text

    def log_seqs(self):
        return driver.execute_script("return [...document.querySelectorAll('#log li')].map(li => Number(li.dataset.seq))")

    def select_package(self, path, version=""):
        search = self.by_id("catalog-search")
        search.clear()
        search.send_keys(path.rsplit("/", 1)[-1])
        box = self.wait(lambda d: d.find_element(By.CSS_SELECTOR, f'#catalog input[data-path="{path}"]'))
        box.send_keys(Keys.SPACE)  # by keyboard, as a person without a mouse would
        self.assertTrue(box.is_selected())
        version_input = self.wait(lambda d: d.find_element(By.CSS_SELECTOR, f'#selected input.version[data-path="{path}"]'))
        self.assertEqual(version_input.get_attribute("placeholder"), "latest")
        if version:
            version_input.send_keys(version)

    def screenshot(self, name, size=DESKTOP, show="build"):
        driver.set_window_size(*size)
        driver.execute_script("document.getElementById(arguments[0]).scrollIntoView({block: 'start'})", show)
        time.sleep(0.3)  # let the layout settle
        path = os.path.join(OUTPUT, f"{name}.png")
        self.assertTrue(driver.save_screenshot(path), path)
        self.assertFalse(driver.execute_script(
            "return document.documentElement.scrollWidth > window.innerWidth + 1"),
            f"{name}: the page is wider than the {size[0]} px window")
        driver.set_window_size(*DESKTOP)

    def build_id_from_url(self):
        return urllib.parse.parse_qs(urllib.parse.urlsplit(driver.current_url).query).get("build", [None])[0]

    # --- tests -----------------------------------------------------------------------

    def test_build_two_plugins_one_pinned_for_arm6_watch_it_live_and_download(self):
        self.open()
        self.assertIn("packages", self.text("catalog-count"))
        self.select_package(HELLO, "v0.1.0")
        self.select_package(WITHDEP)
        Select(self.by_id("platform")).select_by_value("linux/arm/v6")
        self.assertEqual(self.text("selected-count"), "2")

        # The page state is in the query string, and the share box has the same request.
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(driver.current_url).query)
        self.assertEqual(query["p"], [f"{HELLO}@v0.1.0", WITHDEP])
        self.assertEqual((query["os"], query["arch"], query["arm"]), (["linux"], ["arm"], ["6"]))
        link = self.by_id("share-link").get_attribute("value")
        self.assertEqual(link, prox.base + "/api/download?os=linux&arch=arm&arm=6"
                         "&p=github.com%2Fproxfixture%2Fhello%40v0.1.0&p=github.com%2Fproxfixture%2Fwithdep")
        self.assertEqual(self.by_id("share-curl").get_attribute("value"), f"curl -fLo caddy '{link}'")

        self.by_id("build-button").click()

        # Lines arrive while the build is still going (the fixture proxy holds hello's zip 6 s).
        self.wait(lambda d: len(self.log_seqs()) >= 3 and self.state() in ("queued", "running"), 60,
                  "no log lines arrived while the build was running")
        seen_live = len(self.log_seqs())
        self.assertNotIn(self.state(), FINAL)
        build_id = self.build_id_from_url()
        self.assertTrue(build_id, driver.current_url)
        self.assertEqual(json.loads(prox.get(f"/api/builds/{build_id}"))["result"]["state"] in FINAL, False)
        self.assertRegex(self.text("build-elapsed"), r"^\d+\.\d s$")
        self.screenshot("desktop-mid-build")
        self.screenshot("phone-mid-build", PHONE)

        self.wait(lambda d: self.state() in FINAL, 600, "the build did not finish")
        self.assertEqual(self.state(), "succeeded", self.text("log"))
        self.assertGreater(len(self.log_seqs()), seen_live, "more lines came after the first ones were shown")
        self.assertEqual(self.log_seqs(), list(range(1, len(self.log_seqs()) + 1)), "every line, once, in order")
        self.screenshot("desktop-done")
        self.screenshot("phone-done", PHONE)

        record = json.loads(prox.get(f"/api/builds/{build_id}"))["result"]
        shown_sha = self.text("artifact-sha256")
        self.assertEqual(shown_sha, record["artifact"]["sha256"])
        self.assertIn(f"{record['artifact']['size']:,} bytes", self.text("artifact-size"))
        self.assertEqual(self.text("resolved-caddy"), "v2.8.4")
        plugins = self.text("resolved-plugins")
        self.assertIn(f"{HELLO} v0.1.0", plugins)
        self.assertIn(f"{WITHDEP} v0.1.0", plugins)
        exact = self.by_id("exact-link").get_attribute("value")
        self.assertEqual(exact, prox.base + record["links"]["download"])
        self.assertIn("version=v2.8.4", exact)
        self.assertIn("p=github.com%2Fproxfixture%2Fwithdep%40v0.1.0", exact)

        self.by_id("download").click()
        path = session.wait_for_download(record["artifact"]["file_name"])
        self.assertEqual(os.path.basename(path), "caddy_linux_arm6_custom")
        with open(path, "rb") as f:
            data = f.read()
        self.assertEqual(hashlib.sha256(data).hexdigest(), shown_sha, "the file is the one the page describes")
        self.assertEqual(data[:4], b"\x7fELF")
        self.assertEqual(int.from_bytes(data[18:20], "little"), 40, "an ARM (EM_ARM) executable")

        # Signed: the page links the provenance and the signature, names the key, and its
        # verify command, run as shown next to the downloaded file, passes.
        self.assertEqual(self.by_id("provenance-link").get_attribute("href"), prox.base + record["links"]["provenance"])
        self.assertEqual(self.by_id("signature-link").get_attribute("href"), prox.base + record["links"]["signature"])
        command = self.wait(lambda d: self.by_id("verify-command").get_attribute("value"), 30, "no verify command shown")
        key = json.loads(prox.get("/api/signing-key"))["result"][0]
        self.assertEqual(self.text("signing-key-id"), key["id"])
        self.assertTrue(self.text("reproduced").startswith("not checked"), self.text("reproduced"))
        self.assertEqual(command, f"minisign -Vm caddy_linux_arm6_custom -x caddy_linux_arm6_custom.minisig -P {key['minisign']}")
        with open(path + ".minisig", "wb") as f:
            f.write(prox.get(record["links"]["signature"]))
        checked = subprocess.run(shlex.split(command), cwd=os.path.dirname(path), capture_output=True, text=True)
        self.assertEqual(checked.returncode, 0, checked.stdout + checked.stderr)
        envelope = json.loads(prox.get(record["links"]["provenance"]))
        self.assertEqual(envelope["payloadType"], "application/vnd.in-toto+json")

        # It is listed in the recent builds, with its state.
        row = self.wait(lambda d: d.find_element(By.CSS_SELECTOR, f'#recent-rows a[data-build-id="{build_id}"]'))
        self.assertIn("succeeded", row.find_element(By.XPATH, "./ancestor::tr").text)

    def test_a_broken_plugin_shows_its_compiler_error(self):
        # A shared link: the selection comes from the query string.
        self.open(f"?os=linux&arch=amd64&p={BROKEN}")
        self.assertEqual(self.text("selected-count"), "1")
        self.assertEqual(Select(self.by_id("platform")).first_selected_option.get_attribute("value"), "linux/amd64")
        self.by_id("build-button").click()
        self.wait(lambda d: self.state() in FINAL, 600, "the build did not finish")
        self.assertEqual(self.state(), "failed")
        failure = self.by_id("failure-message")
        self.assertTrue(failure.is_displayed())
        self.assertIn("broken.go", failure.text)
        self.assertIn("cannot use", failure.text)
        self.assertFalse(self.by_id("success").is_displayed())
        errors = driver.find_elements(By.CSS_SELECTOR, "#log li.error")
        self.assertTrue(any("broken.go" in e.text and "cannot use" in e.text for e in errors),
                        "the compiler's error line is highlighted in the log")
        self.screenshot("desktop-failed")

    def test_a_reload_mid_build_replays_the_whole_log_and_follows_to_the_end(self):
        self.open(f"?os=linux&arch=amd64&p={HELLO}@v0.2.0")
        self.by_id("build-button").click()
        self.wait(lambda d: len(self.log_seqs()) >= 3 and self.build_id_from_url(), 60, "the build did not start")
        build_id = self.build_id_from_url()
        before = self.log_seqs()
        self.assertNotIn(json.loads(prox.get(f"/api/builds/{build_id}"))["result"]["state"], FINAL,
                         "the reload must happen mid-build (the fixture proxy holds hello v0.2.0's zip 10 s)")

        driver.refresh()
        self.wait(lambda d: d.execute_script("return document.documentElement.dataset.ready === 'true'"))
        self.assertEqual(self.build_id_from_url(), build_id)
        self.assertEqual(self.text("build-title"), f"Build {build_id}")
        self.wait(lambda d: len(self.log_seqs()) >= len(before), 30, "the log was not replayed after the reload")
        self.assertEqual(self.log_seqs()[: len(before)], before, "the replay starts at line 1")
        # The selection survived the reload too.
        self.assertEqual(self.by_id("selected").find_element(By.CSS_SELECTOR, "input.version").get_attribute("value"), "v0.2.0")

        self.wait(lambda d: self.state() in FINAL, 600, "the build did not finish")
        self.assertEqual(self.state(), "succeeded")
        seqs = self.log_seqs()
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)), "the whole log, each line once")
        stream = prox.get(f"/api/builds/{build_id}/logs").decode()
        self.assertEqual(len(seqs), stream.count("event: log\n"), "every line the server has")

    def test_recent_builds_show_their_state_and_open_any_ones_log(self):
        request = urllib.request.Request(
            prox.base + "/api/builds", method="POST", headers={"Content-Type": "application/json"},
            data=json.dumps({"os": "linux", "arch": "arm64", "packages": ["github.com/proxfixture/majortwo/v2"]}).encode())
        with urllib.request.urlopen(request, timeout=60) as response:
            build_id = json.loads(response.read())["result"]["id"]
        self.open()
        link = self.wait(lambda d: d.find_element(By.CSS_SELECTOR, f'#recent-rows a[data-build-id="{build_id}"]'), 30)
        row = link.find_element(By.XPATH, "./ancestor::tr")
        self.assertIn("linux/arm64", row.text)
        self.assertIn("github.com/proxfixture/majortwo/v2@v2.1.0", row.text)
        self.assertTrue(self.by_id("build").get_attribute("hidden"))
        link.click()
        self.wait(lambda d: self.text("build-title") == f"Build {build_id}", 10)
        self.assertEqual(self.build_id_from_url(), build_id)
        self.wait(lambda d: self.state() in FINAL, 600, "the build did not finish")
        self.assertEqual(self.state(), "succeeded")
        seqs = self.log_seqs()
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)))
        self.assertGreater(len(seqs), 5, "the build's own log, from its first line")
        # Its row now says so (the list refreshes when a followed build ends).
        self.wait(lambda d: "succeeded" in d.find_element(
            By.CSS_SELECTOR, f'#recent-rows a[data-build-id="{build_id}"]').find_element(By.XPATH, "./ancestor::tr").text, 30)
        # Back goes to the page without the build.
        driver.back()
        self.wait(lambda d: self.by_id("build").get_attribute("hidden"), 10, "Back closes the build's view")

    def test_search_filters_by_path_module_name_and_docs_in_catalog_order(self):
        self.open()
        catalog = json.loads(prox.get("/api/packages"))["result"]
        shown = driver.execute_script(SHOWN)
        self.assertEqual(shown, [p["path"] for p in catalog], "the catalog in the API's order (most downloaded first)")
        search = self.by_id("catalog-search")
        for query, expected in [
            ("uppercase", ["github.com/ProxFixture/UpperCase"]),  # path, any case
            ("http.handlers.multi", ["github.com/proxfixture/multi/handlers"]),  # module name
            ("fixture module http.handlers.withdep", [WITHDEP]),  # docs words, all must match
            ("no-such-package", []),
        ]:
            search.clear()
            search.send_keys(query)
            self.wait(lambda d: d.execute_script(SHOWN) == expected, 10, f"search {query!r}")
        self.assertIn("0 of", self.text("catalog-count"))

    def test_a_build_lost_in_a_server_crash_ends_with_a_message_not_a_spinner(self):
        upper = "github.com/ProxFixture/UpperCase"
        self.open(f"?os=linux&arch=amd64&p={upper}")
        self.by_id("build-button").click()
        self.wait(lambda d: len(self.log_seqs()) >= 3 and self.state() == "running", 60, "the build did not start")
        build_id = self.build_id_from_url()
        port = prox.crash_hub()  # standalone proxhub keeps build records in memory only
        self.wait(lambda d: self.text("build-step") == "reconnecting…", 15, "the page notices the lost stream")
        prox.start_hub(port)
        message = self.wait(lambda d: self.by_id("failure-message").text, 30, "no message after the restart")
        self.assertIn(f"no build with id {build_id}", message)
        self.assertEqual(self.state(), "lost")
        self.assertEqual(self.text("build-step"), "", "no step is shown as still going")
        # The browser reports the refused reconnections and the 404s: only those.
        errors = [e["message"] for e in session.console_errors()]
        self.assertTrue(errors)
        unexpected = [m for m in errors if f"/api/builds/{build_id}" not in m]
        self.assertEqual(unexpected, [])

    def test_a_shared_link_restores_packages_versions_and_platform(self):
        self.open(f"?os=linux&arch=arm&arm=5&p={HELLO}@v0.1.0&p={WITHDEP}&version=v2.7.6")
        self.assertEqual(Select(self.by_id("platform")).first_selected_option.get_attribute("value"), "linux/arm/v5")
        self.assertEqual(Select(self.by_id("caddy-version")).first_selected_option.get_attribute("value"), "v2.7.6")
        versions = {e.get_attribute("data-path"): e.get_attribute("value")
                    for e in driver.find_elements(By.CSS_SELECTOR, "#selected input.version")}
        self.assertEqual(versions, {HELLO: "v0.1.0", WITHDEP: ""})
        self.assertTrue(self.by_id(dom_id("pkg", HELLO)).is_selected())
        link = self.by_id("share-link").get_attribute("value")
        self.assertIn("arch=arm&arm=5", link)
        self.assertTrue(link.endswith("&version=v2.7.6"), link)

    def test_copy_buttons_put_the_link_and_the_curl_command_on_the_clipboard(self):
        driver.execute_cdp_cmd("Browser.grantPermissions", {
            "origin": prox.base, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
        self.open(f"?os=linux&arch=arm64&p={HELLO}@v0.1.0")
        driver.find_element(By.CSS_SELECTOR, "#share summary").click()
        read = "navigator.clipboard.readText().then(arguments[0], e => arguments[0]('error: ' + e))"
        for button, field in [("copy-link", "share-link"), ("copy-curl", "share-curl")]:
            self.by_id(button).click()
            self.wait(lambda d: self.text(button) == "Copied", 5, f"{button} did not copy")
            self.assertEqual(driver.execute_async_script(read), self.by_id(field).get_attribute("value"))
        self.assertEqual(driver.execute_async_script(read),
                         f"curl -fLo caddy '{prox.base}/api/download?os=linux&arch=arm64&p=github.com%2Fproxfixture%2Fhello%40v0.1.0'")

    def test_a_version_the_proxy_does_not_have_shows_the_servers_message(self):
        self.open(f"?os=linux&arch=amd64&p={HELLO}@v9.9.9")
        self.by_id("build-button").click()
        message = self.wait(lambda d: self.text("form-error"), 30)
        self.assertIn("v9.9.9", message)
        self.assertIn(HELLO, message)
        self.assertTrue(self.by_id("build").get_attribute("hidden"), "no build was started")
        self.assertFalse(self.by_id("build-button").get_attribute("disabled"), "the form can be sent again")
        # The browser itself reports the refused request (a 400): that one entry, nothing else
        # but the plan's requests for the same selection, refused the same way.
        errors = [e for e in session.console_errors() if "/api/download/plan" not in e["message"]]
        self.assertEqual(len(errors), 1, errors)
        self.assertIn("/api/builds", errors[0]["message"])
        self.assertIn("400", errors[0]["message"])

    def test_without_a_platform_in_the_link_the_visitors_own_is_preselected(self):
        self.open()
        # headless Chromium on this machine: Linux on x86-64 (or arm64)
        expected = {"x86_64": "linux/amd64", "aarch64": "linux/arm64"}[os.uname().machine]
        self.assertEqual(Select(self.by_id("platform")).first_selected_option.get_attribute("value"), expected)
        self.assertIn("Your platform", self.text("platform-hint"))
        options = [o.get_attribute("value") for o in Select(self.by_id("platform")).options]
        platforms = json.loads(prox.get("/api/platforms"))["result"]
        self.assertEqual(options, [p["target"] for p in platforms], "the full target list")
        self.assertTrue({"linux/arm/v5", "linux/arm/v6", "linux/arm/v7"} <= set(options))
        versions = [o.get_attribute("value") for o in Select(self.by_id("caddy-version")).options]
        self.assertEqual(versions, json.loads(prox.get("/api/caddy_versions")))

    def test_every_control_is_labelled_and_reachable_by_keyboard(self):
        self.open(f"?p={HELLO}")
        unlabelled = driver.execute_script("""
            return [...document.querySelectorAll('input, select, button, textarea')]
              .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
              .map(e => e.outerHTML)""")
        self.assertEqual(unlabelled, [])
        # Tab from the top reaches the search box, the version field and the Build button.
        driver.execute_script("document.activeElement.blur(); window.scrollTo(0, 0)")
        reached = set()
        for _ in range(60):
            ActionChains(driver).send_keys(Keys.TAB).perform()
            reached.add(driver.switch_to.active_element.get_attribute("id"))
        self.assertTrue({"catalog-search", dom_id("ver", HELLO), "platform",
                         "caddy-version", "build-button"} <= reached, reached)

    def test_an_invalid_version_is_refused_with_a_message_naming_the_fix(self):
        self.open(f"?os=linux&arch=amd64&p={HELLO}")
        version = driver.find_element(By.CSS_SELECTOR, f'#selected input.version[data-path="{HELLO}"]')
        version.send_keys("some branch")
        self.by_id("build-button").click()
        message = self.wait(lambda d: self.text("form-error"), 10)
        self.assertIn("is not a version", message)
        self.assertIn("v1.2.3", message)
        self.assertTrue(self.by_id("build").get_attribute("hidden"), "no build was started")


if __name__ == "__main__":
    unittest.main(verbosity=2)
