"""The dry-run plan in the web UI (GET /api/download/plan with the query Build would send):
shown live beside the selection with the exact versions and the Go toolchain, whether the
binary is new, being built or cached; warnings about combinations that failed before,
visible before Build, with a one-click pin of a version known to build. Against a live
proxhub and the fixture module proxy; same rules as test_web_ui (no console errors but
the refusals a test provokes)."""

import json
import os
import unittest
import urllib.error
import urllib.parse

from harness import OUTPUT, BrowserSession, LiveProx, PageHelpers

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

HELLO = "github.com/proxfixture/hello"
BROKEN = "github.com/proxfixture/broken"
BROKEN_GOOD = "v0.0.9"  # the fixture's older version of broken, which compiles

session = None


def setUpModule():
    global session
    session = BrowserSession(LiveProx()).start()


def tearDownModule():
    if session is not None:
        session.stop()


def query(*plugins, os_="linux", arch="amd64"):
    """The download query the page sends for these plugins (api.js downloadQuery)."""
    return f"os={os_}&arch={arch}" + "".join("&p=" + urllib.parse.quote(p, safe="") for p in plugins)


class PlanTests(PageHelpers, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.session = session

    def setUp(self):
        self.driver.set_window_size(1440, 900)
        self.driver.get_log("browser")

    def tearDown(self):
        self.assertEqual(self.console_errors(), [], "the browser console reported errors")

    # --- helpers ---------------------------------------------------------------------

    def select(self, path):
        search = self.by_id("catalog-search")
        search.clear()
        search.send_keys(path.rsplit("/", 1)[-1])
        box = self.wait(lambda d: d.find_element(By.CSS_SELECTOR, f'#catalog input[data-path="{path}"]'))
        box.send_keys(Keys.SPACE)
        self.assertTrue(box.is_selected())

    def plan_state(self, for_query, timeout=60):
        """The plan's state (new, building, cached) once it shows the plan of `for_query`."""
        return self.wait(lambda d: d.execute_script(
            "const p = document.getElementById('plan');"
            "return !p.hidden && p.dataset.for === arguments[0] && p.dataset.state !== 'loading' && p.dataset.state",
            for_query), timeout, f"no plan for {for_query}")

    def plan_error(self, timeout=60):
        return self.wait(lambda d: d.execute_script(
            "const p = document.getElementById('plan');"
            "return !p.hidden && p.dataset.state === 'error' && document.getElementById('plan-status').textContent"),
            timeout, "no error in the plan")

    def warnings(self):
        return [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, "#plan-warnings li")]

    def build_id_from_url(self):
        return urllib.parse.parse_qs(urllib.parse.urlsplit(self.driver.current_url).query).get("build", [None])[0]

    def screenshot(self, name, size=None):
        """The build panel (the plan in it) in view, at `size` (the desktop window by default)."""
        if size:
            self.viewport(*size)
        self.driver.execute_script("document.getElementById('plan').scrollIntoView({block: 'nearest'})")
        self.assertTrue(self.driver.save_screenshot(os.path.join(OUTPUT, f"{name}.png")))
        self.assertFalse(self.driver.execute_script("return document.documentElement.scrollWidth > window.innerWidth"),
                         f"{name}: wider than the window")
        if size:
            self.viewport(None, None)

    def build(self, *packages):
        """Builds through the API (linux/amd64); the record once it ended."""
        record = self.api("/api/builds", "POST", {"os": "linux", "arch": "amd64", "packages": list(packages)})
        return self.wait_for_build(record["id"])

    # --- tests -----------------------------------------------------------------------

    def test_the_plan_shows_exact_versions_and_toolchain_then_the_build_then_the_cached_binary(self):
        self.open("?os=linux&arch=amd64")
        self.select(HELLO)
        q = query(HELLO)
        self.assertEqual(self.plan_state(q), "new")
        self.assertIn("New build", self.text("plan-status"))
        self.assertEqual(self.text("plan-caddy"), "v2.8.4")
        plugin = self.driver.find_element(By.CSS_SELECTOR, f'#plan-plugins li[data-path="{HELLO}"]')
        self.assertEqual(plugin.text, f"{HELLO} v0.2.0")
        planned = self.api("/api/download/plan?" + q)
        go = self.text("plan-go")
        self.assertTrue(go.startswith("go1.23"), go)
        self.assertEqual(go.split()[0], planned["go_version"])
        if planned.get("toolchain") and planned["toolchain"].get("reason"):
            self.assertIn(planned["toolchain"]["reason"], go)
        self.assertEqual(self.warnings(), [])
        self.assertFalse(self.by_id("plan-sha256").is_displayed())
        self.assertEqual(self.by_id("share-pinned").get_attribute("value"), self.base + planned["download"])
        self.assertIn("%40v0.2.0", planned["download"])
        self.screenshot("plan-new")

        # Build: the plan says it is being built and links its log; then it is cached.
        self.by_id("build-button").click()
        build_id = self.wait(lambda d: self.build_id_from_url(), 30, "the build did not start")
        self.assertEqual(self.plan_state(q, 30), "building", "hello v0.2.0 takes over 10 s (its zip is slow)")
        link = self.driver.find_element(By.CSS_SELECTOR, "#plan-status a")
        self.assertEqual(link.get_attribute("data-build-id"), build_id)
        self.assertIn(f"build={build_id}", link.get_attribute("href"))
        record = self.wait_for_build(build_id)
        self.assertEqual(record["state"], "succeeded")
        self.wait(lambda d: self.plan_state(q) == "cached", 30, "the plan did not turn to cached")
        self.assertIn("Cached", self.text("plan-status"))
        self.assertEqual(self.text("plan-sha256"), record["artifact"]["sha256"])
        self.assertIn(f"{record['artifact']['size']:,} bytes", self.text("plan-size"))
        self.screenshot("plan-cached")

        # The catalog row says it built here (a server that reports last builds).
        row = self.driver.find_element(By.CSS_SELECTOR, f'#catalog-rows tr[data-path="{HELLO}"]')
        if "last_build" in next(p for p in self.api("/api/packages") if p["path"] == HELLO):
            self.wait(lambda d: "built" in row.find_element(By.CSS_SELECTOR, "td.last").text, 30)
            self.assertIn("v0.2.0", row.find_element(By.CSS_SELECTOR, "td.last").text)

    def test_a_plugin_that_failed_before_is_warned_about_before_build(self):
        self.open("?os=linux&arch=amd64")
        self.select(BROKEN)
        q = query(BROKEN)
        self.assertIn(self.plan_state(q), ("new", "building"))
        if not any(c["path"] == BROKEN for c in self.api("/api/download/plan?" + q)["compatibility"]):
            self.assertEqual(self.warnings(), [], "nothing is known before its first build")
        self.by_id("build-button").click()
        build_id = self.wait(lambda d: self.build_id_from_url(), 30, "the build did not start")
        self.assertEqual(self.wait_for_build(build_id)["state"], "failed")

        # Selected again on a fresh page: the warning shows before Build is pressed.
        self.open("?os=linux&arch=amd64")
        self.select(BROKEN)
        self.plan_state(q)
        warnings = self.wait(lambda d: self.warnings(), 30, "no warning about broken")
        self.assertTrue(any(f"{BROKEN} v0.1.0 failed with Caddy v2.8.4" in w and "broken.go" in w for w in warnings),
                        warnings)
        self.assertEqual(self.by_id("plan-warnings").get_attribute("role"), "alert")
        self.assertTrue(self.driver.find_element(By.CSS_SELECTOR, "#plan-warnings li").is_displayed())
        self.assertTrue(self.by_id("build").get_attribute("hidden"), "no build was started on this page")
        planned = self.api("/api/download/plan?" + q)
        record = next(c for c in planned["compatibility"] if c["path"] == BROKEN)
        self.assertGreaterEqual(record["failed"], 1)

        # What the server learned is at the compatibility endpoint, which the row links.
        learned = self.api(f"/api/packages/{BROKEN}/compatibility")
        self.assertTrue(any(v["version"] == "v0.1.0" and v["failed"] >= 1 for v in learned["versions"]), learned)
        cell = self.driver.find_element(By.CSS_SELECTOR, f'#catalog-rows tr[data-path="{BROKEN}"] td.last')
        self.wait(lambda d: "failed" in cell.text, 30, "the row shows the failed build")
        self.assertEqual(cell.find_element(By.TAG_NAME, "a").get_attribute("href"),
                         self.base + f"/api/packages/{BROKEN}/compatibility")

    def test_a_version_known_to_build_is_suggested_and_pinned_with_one_click(self):
        good = self.build(f"{BROKEN}@{BROKEN_GOOD}")
        self.assertEqual(good["state"], "succeeded", f"the fixture's {BROKEN}@{BROKEN_GOOD} builds")
        self.assertEqual(self.build(BROKEN)["state"], "failed")

        self.open(f"?os=linux&arch=amd64&p={BROKEN}")
        self.plan_state(query(BROKEN))
        use = self.wait(lambda d: d.find_element(
            By.CSS_SELECTOR, f'#plan-warnings button.use-version[data-path="{BROKEN}"]'), 30, "no suggestion")
        self.assertEqual(use.text, f"Use {BROKEN_GOOD}")
        self.assertEqual(use.get_attribute("data-version"), BROKEN_GOOD)
        self.screenshot("plan-warning-desktop")
        self.screenshot("plan-warning-phone", (390, 844))
        use.click()
        version = self.driver.find_element(By.CSS_SELECTOR, f'#selected input.version[data-path="{BROKEN}"]')
        self.assertEqual(version.get_attribute("value"), BROKEN_GOOD)
        self.assertEqual(self.driver.switch_to.active_element.get_attribute("id"), version.get_attribute("id"))
        pinned = f"{BROKEN}@{BROKEN_GOOD}"
        self.assertEqual(urllib.parse.parse_qs(urllib.parse.urlsplit(self.driver.current_url).query)["p"], [pinned])
        self.assertEqual(self.plan_state(query(pinned)), "cached", "the version built above")
        self.assertEqual(self.driver.find_element(By.CSS_SELECTOR, f'#plan-plugins li[data-path="{BROKEN}"]').text,
                         f"{BROKEN} {BROKEN_GOOD}")
        self.assertEqual(self.warnings(), [])
        self.assertEqual(self.text("plan-sha256"), good["artifact"]["sha256"])

    def test_a_bad_selection_shows_the_servers_message_in_the_plan(self):
        q = query(f"{HELLO}@v9.9.9")
        with self.assertRaises(urllib.error.HTTPError) as refused:
            self.api("/api/download/plan?" + q)
        self.assertEqual(refused.exception.code, 400)
        expected = json.loads(refused.exception.read())["error"]["message"]
        self.open(f"?os=linux&arch=amd64&p={HELLO}@v9.9.9")
        self.assertEqual(self.plan_error(), expected)
        self.assertFalse(self.by_id("plan-facts").is_displayed())
        # The browser reports the refused request itself (a 400): those entries only.
        errors = self.console_errors()
        self.assertTrue(errors)
        self.assertEqual([e for e in errors if "/api/download/plan" not in e["message"] or "400" not in e["message"]], [])

        # A version with a space is refused by the page, without asking the server.
        version = self.driver.find_element(By.CSS_SELECTOR, f'#selected input.version[data-path="{HELLO}"]')
        version.send_keys(Keys.CONTROL, "a")
        version.send_keys("some branch")
        self.wait(lambda d: "is not a version" in self.text("plan-status"), 10)
        self.assertEqual(self.by_id("plan").get_attribute("data-state"), "error")

        # Fixed, the plan comes back.
        version.send_keys(Keys.CONTROL, "a")
        version.send_keys("v0.1.0")
        self.assertIn(self.plan_state(query(f"{HELLO}@v0.1.0")), ("new", "building", "cached"))
        self.assertFalse(self.by_id("plan-status").get_attribute("class").count("error-text"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
