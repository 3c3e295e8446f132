"""The web UI against a proxhub from before the dry-run plan (harness.FrontProxy with
`older_api`: no /api/download/plan, no compatibility, /api/packages without
`local_downloads`, `popularity` and `last_build`): the page works as before, without the
plan panel and the last-build column, ordered by `downloads`. Same rules as test_web_ui,
but for the 404s the browser reports for the plan requests."""

import unittest

from harness import BrowserSession, LiveProx, PageHelpers

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

HELLO = "github.com/proxfixture/hello"


class OlderProx(LiveProx):
    LOG_PREFIX = "older-"
    OLDER_API = True


session = None


def setUpModule():
    global session
    session = BrowserSession(OlderProx()).start()


def tearDownModule():
    if session is not None:
        session.stop()


class OlderServerTests(PageHelpers, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.session = session

    def setUp(self):
        self.driver.get_log("browser")

    def tearDown(self):
        errors = [e for e in self.console_errors()
                  if "/api/download/plan" not in e["message"] or "404" not in e["message"]]
        self.assertEqual(errors, [], "the browser console reported errors")

    def test_without_the_plan_endpoint_the_page_builds_as_before(self):
        self.open("?os=linux&arch=amd64")
        catalog = self.api("/api/packages")
        self.assertNotIn("popularity", catalog[0])
        self.assertEqual(self.visible_paths(), [p["path"] for p in catalog], "in the server's order")
        # Counts: this server's downloads, one number; no last-build column.
        row = self.driver.find_element(By.CSS_SELECTOR, f'#catalog-rows tr[data-path="{HELLO}"]')
        self.assertEqual(row.find_element(By.CSS_SELECTOR, "td.pop").text, "0 downloads")
        self.assertFalse(row.find_element(By.CSS_SELECTOR, "td.last").is_displayed())
        self.assertFalse(self.driver.find_element(By.CSS_SELECTOR, "#catalog th.last").is_displayed())

        # The plan is asked for once, answered 404: the panel never shows, nor is asked again.
        search = self.by_id("catalog-search")
        search.send_keys("hello")
        self.driver.find_element(By.CSS_SELECTOR, f'#catalog input[data-path="{HELLO}"]').send_keys(Keys.SPACE)
        seen = []
        self.wait(lambda d: seen.extend(d.get_log("browser")) or any("/api/download/plan" in e["message"] for e in seen),
                  10, "the page did not ask for the plan")
        self.assertEqual([e for e in seen if e["level"] == "SEVERE"
                          and ("/api/download/plan" not in e["message"] or "404" not in e["message"])], [])
        Select(self.by_id("caddy-version")).select_by_value("v2.8.0")
        self.driver.execute_script("return new Promise(r => setTimeout(r, 600))")
        self.assertFalse(self.by_id("plan").is_displayed())
        self.assertEqual([e for e in self.console_errors() if "/api/download/plan" in e["message"]], [],
                         "not asked again after a 404")
        self.assertIn("version=v2.8.0", self.by_id("share-link").get_attribute("value"))

        # Build still works, and the pinned link (a plan's) is not offered.
        self.assertFalse(self.by_id("share-pinned-row").is_displayed())
        self.by_id("build-button").click()
        build_id = self.wait(lambda d: d.execute_script(
            "return new URLSearchParams(location.search).get('build')"), 30, "the build did not start")
        self.assertEqual(self.wait_for_build(build_id)["state"], "succeeded")
        self.wait(lambda d: self.text("build-state") == "succeeded", 30)
        self.assertFalse(self.by_id("plan").is_displayed())


if __name__ == "__main__":
    unittest.main(verbosity=2)
