"""The web UI of a private proxhub (`--pull-token`): the page asks for the token once,
keeps it for the browser session (an HttpOnly cookie the server sets), and then builds,
streams the log and downloads like on an open server. Same rules as test_web_ui."""

import unittest
import urllib.error
import urllib.request

from harness import BrowserSession, LiveProx

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

HELLO = "github.com/proxfixture/hello"
TOKEN = "browser-pull-token-0123456789"


class PrivateProx(LiveProx):
    LOG_PREFIX = "private-"

    def hub_arguments(self):
        return ["--pull-token", TOKEN]


session = None
prox = None
driver = None


def setUpModule():
    global session, prox, driver
    session = BrowserSession(PrivateProx()).start()
    prox, driver = session.live, session.driver


def tearDownModule():
    if session is not None:
        session.stop()


class PrivateWebUITests(unittest.TestCase):
    def wait(self, condition, timeout=30, message=""):
        # The page reloads once the token is accepted: an element found just before is stale.
        return WebDriverWait(driver, timeout, poll_frequency=0.1, ignored_exceptions=[StaleElementReferenceException]).until(condition, message)

    def ready(self):
        self.wait(lambda d: d.execute_script("return document.documentElement.dataset.ready === 'true'"),
                  message="the page did not finish loading")

    def test_the_page_asks_for_the_token_once_then_builds_streams_and_downloads(self):
        with self.assertRaises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(prox.base + "/api/platforms", timeout=10)
        self.assertEqual(refused.exception.code, 401)

        driver.get(prox.base + f"/?os=linux&arch=amd64&p={HELLO}@v0.2.0")
        self.ready()
        self.assertTrue(driver.find_element(By.ID, "token-form").is_displayed())
        self.assertFalse(driver.find_element(By.ID, "build-form").is_displayed())
        self.assertEqual(driver.switch_to.active_element.get_attribute("id"), "token-input")

        token = driver.find_element(By.ID, "token-input")
        token.send_keys("wrong-token-0123456789")
        driver.find_element(By.ID, "token-submit").click()
        self.wait(lambda d: "wrong token" in d.find_element(By.ID, "token-error").text, 10, "no message for a wrong token")
        driver.get_log("browser")  # the refused POST is logged as a failed load: expected here

        token.clear()
        token.send_keys(TOKEN)
        driver.find_element(By.ID, "token-submit").click()
        self.wait(lambda d: d.find_element(By.ID, "build-form").is_displayed(), 30, "the page did not open after the token")
        self.ready()
        self.wait(lambda d: "not available" not in d.find_element(By.ID, "catalog-count").text
                  and d.find_elements(By.CSS_SELECTOR, "#catalog input"), 30, "the catalog did not load")
        self.assertEqual(driver.execute_script("return document.cookie"), "", "the token is not readable by scripts")

        driver.find_element(By.ID, "build-button").click()
        self.wait(lambda d: d.find_element(By.ID, "build-state").text in ("succeeded", "failed"), 180, "the build did not end")
        self.assertEqual(driver.find_element(By.ID, "build-state").text, "succeeded")
        lines = driver.execute_script("return document.querySelectorAll('#log li').length")
        self.assertGreater(lines, 3, "the log streamed through the session")
        status = driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch(document.getElementById('download').href, {method: 'HEAD'}).then(r => done(r.status), e => done(String(e)));")
        self.assertEqual(status, 200)

        # Once in, a reload goes straight to the page.
        driver.refresh()
        self.ready()
        self.assertFalse(driver.find_element(By.ID, "token-form").is_displayed())
        self.assertEqual(session.console_errors(), [], "the browser console reported errors")
