"""The web UI against a hub: `proxhub --hub` with one `proxagent` on a real redis-server,
so the page's log comes through Redis (the hub's log relay) and the binary from the agent.
Same rules as test_web_ui: headless Chromium, no console errors."""

import hashlib
import json
import os
import unittest
import urllib.parse

from harness import OUTPUT, BrowserSession, LiveCluster

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

HELLO = "github.com/proxfixture/hello"
FINAL = ("succeeded", "failed", "cancelled")

session = None
cluster = None
driver = None


def setUpModule():
    global session, cluster, driver
    session = BrowserSession(LiveCluster()).start()
    cluster, driver = session.live, session.driver


def tearDownModule():
    if session is not None:
        session.stop()


class HubWebUITests(unittest.TestCase):
    def tearDown(self):
        self.assertEqual(session.console_errors(), [], "the browser console reported errors")

    def wait(self, condition, timeout=30, message=""):
        return WebDriverWait(driver, timeout, poll_frequency=0.1).until(condition, message)

    def text(self, element_id):
        return driver.find_element(By.ID, element_id).text

    def lines(self):
        return driver.execute_script("return [...document.querySelectorAll('#log li .text')].map(e => e.textContent)")

    def test_a_build_on_an_agent_streams_through_redis_and_downloads_from_the_hub(self):
        driver.get(cluster.base + f"/?os=linux&arch=arm64&p={HELLO}@v0.1.0")
        self.wait(lambda d: d.execute_script("return document.documentElement.dataset.ready === 'true'"))
        self.assertEqual(Select(driver.find_element(By.ID, "platform")).first_selected_option.get_attribute("value"), "linux/arm64")
        driver.find_element(By.ID, "build-button").click()

        # The agent's lines arrive while it builds (the fixture proxy holds hello's zip 6 s).
        self.wait(lambda d: any(f"on agent {LiveCluster.AGENT}" in line for line in self.lines())
                  and self.text("build-state") == "running", 120, "the agent's lines did not arrive during the build")
        seen = len(self.lines())
        build_id = urllib.parse.parse_qs(urllib.parse.urlsplit(driver.current_url).query)["build"][0]
        self.assertNotIn(json.loads(cluster.get(f"/api/builds/{build_id}"))["result"]["state"], FINAL)

        self.wait(lambda d: self.text("build-state") in FINAL, 600, "the build did not finish")
        self.assertEqual(self.text("build-state"), "succeeded", "\n".join(self.lines()))
        self.assertGreater(len(self.lines()), seen)
        self.assertIn(f"on agent {LiveCluster.AGENT}", self.text("build-summary"))
        self.assertTrue(any(line.startswith(f"build succeeded on agent {LiveCluster.AGENT}") for line in self.lines()))
        driver.execute_script("document.getElementById('build').scrollIntoView({block: 'start'})")
        driver.save_screenshot(os.path.join(OUTPUT, "hub-desktop-done.png"))

        record = json.loads(cluster.get(f"/api/builds/{build_id}"))["result"]
        self.assertEqual(record["worker"], LiveCluster.AGENT)
        self.assertEqual(self.text("artifact-sha256"), record["artifact"]["sha256"])
        driver.find_element(By.ID, "download").click()
        path = session.wait_for_download(record["artifact"]["file_name"])
        with open(path, "rb") as f:
            data = f.read()
        self.assertEqual(hashlib.sha256(data).hexdigest(), self.text("artifact-sha256"))
        self.assertEqual(int.from_bytes(data[18:20], "little"), 183, "an AArch64 (EM_AARCH64) executable")


if __name__ == "__main__":
    unittest.main(verbosity=2)
