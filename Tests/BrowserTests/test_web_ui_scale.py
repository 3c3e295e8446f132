"""The web UI with a catalog the size of a real one: 1,000 packages (the fixture's six and
generated ones over a dozen module namespaces, harness.write_scaled_catalog). The layout
at desktop and phone widths (screenshots in test-output/browser/), how long the filter
takes to update 1,000 rows, the namespace filter, the two orders, and the keyboard.
Same rules as test_web_ui: headless Chromium, no console errors."""

import json
import os
import unittest

from harness import OUTPUT, BrowserSession, PageHelpers, ScaledProx, namespace

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

HELLO = "github.com/proxfixture/hello"
FILTER_BUDGET_MS = 50

session = None


def setUpModule():
    global session
    session = BrowserSession(ScaledProx()).start()


def tearDownModule():
    if session is not None:
        session.stop()


def matches(pkg, query):
    """The page's search: every word, lower-cased, in the path, a module name or docs."""
    text = " ".join([pkg["path"]] + [f"{m.get('name', '')} {m.get('docs', '')}" for m in pkg.get("modules") or []]).lower()
    return all(word in text for word in query.lower().split())


class ScaledCatalogTests(PageHelpers, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.session = session
        cls.catalog = None

    def setUp(self):
        self.viewport(1440, 900)
        self.driver.get_log("browser")
        if ScaledCatalogTests.catalog is None:
            ScaledCatalogTests.catalog = self.api("/api/packages")

    def tearDown(self):
        self.viewport(None, None)
        self.assertEqual(self.console_errors(), [], "the browser console reported errors")

    def rect(self, selector):
        return self.driver.execute_script(
            "const r = document.querySelector(arguments[0]).getBoundingClientRect();"
            "return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height}",
            selector)

    def screenshot(self, name):
        path = os.path.join(OUTPUT, f"{name}.png")
        self.assertTrue(self.driver.save_screenshot(path), path)

    def type_into_search(self, query):
        """Types `query` into the empty search box key by key; the filter's time for each key."""
        search = self.by_id("catalog-search")
        search.send_keys(Keys.CONTROL, "a")
        search.send_keys(Keys.BACKSPACE)
        times = []
        for char in query:
            runs = int(self.by_id("catalog").get_attribute("data-filter-runs"))
            search.send_keys(char)
            self.wait(lambda d: int(self.by_id("catalog").get_attribute("data-filter-runs")) > runs, 5,
                      f"the filter did not run for {char!r}")
            times.append(float(self.by_id("catalog").get_attribute("data-filter-ms")))
        return times

    # --- tests -----------------------------------------------------------------------

    def test_all_1000_packages_are_rows_without_paging(self):
        self.open()
        self.assertEqual(len(self.catalog), ScaledProx.TOTAL)
        self.assertEqual(self.visible_paths(), [p["path"] for p in self.catalog], "every package, in the API's order")
        self.assertIn("1,000 packages", self.text("catalog-count"))
        buttons = [b.text for b in self.driver.find_elements(By.TAG_NAME, "button")]
        self.assertFalse([b for b in buttons if "more" in b.lower()], f"no paging button: {buttons}")
        # Each row: the path, its module IDs, a one-line description, both counts.
        hello = next(p for p in self.catalog if p["path"] == HELLO)
        row = self.driver.find_element(By.CSS_SELECTOR, f'#catalog-rows tr[data-path="{HELLO}"]')
        cells = row.find_elements(By.TAG_NAME, "td")
        self.assertIn("http.handlers.hello", cells[0].text)
        self.assertEqual(cells[1].get_attribute("title"), "Fixture module http.handlers.hello.")
        self.assertIn(f"{hello['downloads']:,}", cells[2].text)
        if "local_downloads" in hello:
            self.assertIn("upstream", cells[2].text)
            self.assertIn(f"{hello['local_downloads']:,} here", cells[2].text)
        style = self.driver.execute_script(
            "const s = getComputedStyle(arguments[0]); return [s.whiteSpace, s.textOverflow, s.overflowX]", cells[1])
        self.assertEqual(style, ["nowrap", "ellipsis", "hidden"], "the description is one line, cut with an ellipsis")

    def test_layout_at_1440_puts_a_tall_table_beside_the_build_panel(self):
        self.open()
        self.screenshot("scale-desktop-1440")
        table, panel = self.rect("#catalog"), self.rect("#build-pane")
        width = self.driver.execute_script("return window.innerWidth")
        height = self.driver.execute_script("return window.innerHeight")
        self.assertEqual((width, height), (1440, 900))
        self.assertLessEqual(table["right"], panel["left"], f"side by side, panel to the right: {table} {panel}")
        self.assertLess(panel["top"], table["bottom"], "the panel is beside the table, not below it")
        self.assertGreater(table["width"], 0.55 * width, f"the table is wide: {table['width']} of {width} px")
        scroller, head = self.rect(".catalog-scroll"), self.rect("#catalog thead")
        rows = self.driver.execute_script("""
            const top = arguments[0], bottom = Math.min(arguments[1], window.innerHeight);
            return [...document.querySelectorAll('#catalog-rows tr:not([hidden])')]
              .map(tr => tr.getBoundingClientRect()).filter(r => r.top >= top - 1 && r.bottom <= bottom + 1).length""",
            head["bottom"], scroller["bottom"])
        self.assertEqual(self.driver.execute_script("return window.scrollY"), 0)
        self.assertGreaterEqual(rows, 15, "rows shown without scrolling the page")
        # The build panel stays at the top of the window while the page scrolls past the header.
        self.driver.execute_script("window.scrollTo(0, 60)")
        self.assertEqual(self.driver.execute_script("return window.scrollY"), 60)
        self.assertTrue(0 <= self.rect("#build-pane")["top"] < 20, "the build panel is sticky")

    def test_layout_at_390_is_one_column_without_horizontal_scrolling(self):
        self.viewport(390, 844)
        self.open(f"?p={HELLO}")
        self.screenshot("scale-phone-390")
        self.assertEqual(self.driver.execute_script("return window.innerWidth"), 390)
        self.assertLessEqual(self.driver.execute_script("return document.documentElement.scrollWidth"), 390)
        pane, panel = self.rect(".catalog-pane"), self.rect("#build-pane")
        self.assertGreaterEqual(panel["top"], pane["bottom"] - 1, "the build panel comes below the catalog")
        self.assertLessEqual(pane["right"], 390)
        self.assertLessEqual(panel["right"], 390)
        self.driver.execute_script("document.getElementById('build-pane').scrollIntoView({block: 'start'})")
        self.screenshot("scale-phone-390-build-panel")
        self.assertLessEqual(self.driver.execute_script("return document.documentElement.scrollWidth"), 390)

    def test_filtering_1000_rows_takes_under_50_ms_per_key(self):
        self.open()
        report = {}
        for query in ["dns", "cloud", "http.handlers", "storage certificates", "zzzz", "hello"]:
            times = self.type_into_search(query)
            report[query] = times
            if max(times) >= FILTER_BUDGET_MS:
                # One slow key on a shared 2-core machine can be the scheduler, not the filter:
                # the query is typed once more, and that run must be within the budget.
                times = self.type_into_search(query)
                report[query + " (again)"] = times
            expected = [p["path"] for p in self.catalog if matches(p, query)]
            self.wait(lambda d: self.visible_paths() == expected, 5, f"rows for {query!r}")
            self.assertLess(max(times), FILTER_BUDGET_MS, f"{query!r}: filter times per key {times} ms")
        # The same, timed by the test itself: one input event, through to the rows' layout.
        for query in ["d", "dns.providers", "a", "e", ""]:
            elapsed = self.driver.execute_script("""
                const search = document.getElementById('catalog-search');
                search.value = arguments[0];
                const start = performance.now();
                search.dispatchEvent(new Event('input', {bubbles: true}));
                document.getElementById('catalog').getBoundingClientRect();
                return performance.now() - start;""", query)
            report[f"dispatched {query!r}"] = [elapsed]
            self.assertLess(elapsed, FILTER_BUDGET_MS, f"{query!r}: {elapsed} ms")
        self.assertEqual(len(self.visible_paths()), ScaledProx.TOTAL)
        with open(os.path.join(OUTPUT, "scale-filter-times.json"), "w") as f:
            json.dump(report, f, indent=1)

    def test_the_namespace_filter_shows_only_that_namespace_with_its_count(self):
        self.open()
        select = Select(self.by_id("catalog-namespace"))
        dns = [p["path"] for p in self.catalog
               if any(namespace(m["name"]) == "dns.providers" for m in p.get("modules") or [])]
        self.assertGreater(len(dns), 100)
        options = {o.get_attribute("value"): o.text for o in select.options}
        self.assertEqual(options["dns.providers"], f"dns.providers ({len(dns)})")
        self.assertIn("http.handlers", options)
        self.assertIn("caddy.storage", options)
        self.assertIn("layer4.handlers", options)
        self.assertEqual(options[""], "All namespaces (1,000)")
        select.select_by_value("dns.providers")
        self.wait(lambda d: self.visible_paths() == dns, 5, "only dns.providers packages")
        self.assertIn(f"{len(dns)} of 1,000 packages in dns.providers", self.text("catalog-count"))
        # With words too: both must match.
        self.type_into_search("cloud")
        expected = [p for p in dns if matches(next(x for x in self.catalog if x["path"] == p), "cloud")]
        self.wait(lambda d: self.visible_paths() == expected, 5)
        self.assertIn(f"{len(expected)} of 1,000 packages match “cloud” in dns.providers", self.text("catalog-count"))
        self.type_into_search("")
        select.select_by_value("")
        self.wait(lambda d: len(self.visible_paths()) == ScaledProx.TOTAL, 5)

    def test_sort_by_popularity_or_by_name(self):
        self.open()
        api_order = [p["path"] for p in self.catalog]
        self.assertEqual(self.visible_paths()[:30], api_order[:30], "most popular first, as the API sorts")
        key = (lambda p: p.get("popularity", p.get("downloads", 0)))
        values = [key(p) for p in self.catalog]
        self.assertEqual(values, sorted(values, reverse=True), "the API sorts by popularity")
        Select(self.by_id("catalog-sort")).select_by_value("name")
        by_name = sorted(api_order, key=str.lower)
        self.wait(lambda d: self.visible_paths() == by_name, 5, "by name")
        self.assertIn("by name", self.text("catalog-count"))
        # Sorting keeps the filter.
        self.type_into_search("caddy-dns-scale")
        self.wait(lambda d: self.visible_paths() == [p for p in by_name if "caddy-dns-scale" in p.lower()], 5)
        Select(self.by_id("catalog-sort")).select_by_value("popularity")
        self.wait(lambda d: self.visible_paths() == [p for p in api_order if "caddy-dns-scale" in p.lower()], 5)

    def test_the_keyboard_reaches_filter_one_row_and_build_and_arrows_move_between_rows(self):
        self.open()
        self.driver.execute_script("document.activeElement.blur(); window.scrollTo(0, 0)")
        reached = []
        for _ in range(40):
            ActionChains(self.driver).send_keys(Keys.TAB).perform()
            reached.append(self.driver.switch_to.active_element.get_attribute("id"))
        for wanted in ["catalog-search", "catalog-namespace", "catalog-sort", "caddy-version", "platform", "build-button"]:
            self.assertIn(wanted, reached)
        rows = [i for i in reached if i and i.startswith("pkg-")]
        self.assertEqual(len(set(rows)), 1, f"the table is one Tab stop: {reached}")
        self.assertLess(reached.index("build-button"), 20, f"Build is a few Tabs away: {reached}")
        self.assertLess(reached.index("catalog-sort"), reached.index(rows[0]))

        # Into the table from the order select: the first row; Down moves, Space ticks, the
        # focus is visible. (Among the fixture's packages: the page asks for the plan of what
        # is ticked, and the synthetic ones are not on the module proxy.)
        self.type_into_search("proxfixture")
        first, second = self.visible_paths()[:2]
        self.by_id("catalog-sort").send_keys(Keys.TAB)
        active = self.driver.switch_to.active_element
        self.assertEqual(active.get_attribute("data-path"), first)
        ActionChains(self.driver).send_keys(Keys.ARROW_DOWN).perform()
        active = self.driver.switch_to.active_element
        self.assertEqual(active.get_attribute("data-path"), second)
        outline = self.driver.execute_script(
            "const s = getComputedStyle(document.activeElement); return [s.outlineStyle, parseFloat(s.outlineWidth)]")
        self.assertNotEqual(outline[0], "none", "the focused checkbox shows it")
        self.assertGreaterEqual(outline[1], 2)
        ActionChains(self.driver).send_keys(Keys.SPACE).perform()
        self.assertTrue(active.is_selected())
        self.assertEqual(self.text("selected-count"), "1")
        self.driver.find_element(By.CSS_SELECTOR, f'#selected li[data-path="{second}"]')
        # End and Home jump to the last and the first row shown; Space again unticks.
        ActionChains(self.driver).send_keys(Keys.END).perform()
        self.assertEqual(self.driver.switch_to.active_element.get_attribute("data-path"), self.visible_paths()[-1])
        ActionChains(self.driver).send_keys(Keys.HOME).perform()
        self.assertEqual(self.driver.switch_to.active_element.get_attribute("data-path"), first)
        ActionChains(self.driver).send_keys(Keys.ARROW_DOWN, Keys.SPACE).perform()
        self.assertFalse(active.is_selected())
        self.assertEqual(self.text("selected-count"), "0")
        # The row stays the table's Tab stop: Shift+Tab out and Tab back lands on it.
        ActionChains(self.driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
        self.assertEqual(self.driver.switch_to.active_element.get_attribute("id"), "catalog-sort")
        ActionChains(self.driver).send_keys(Keys.TAB).perform()
        self.assertEqual(self.driver.switch_to.active_element.get_attribute("data-path"), second)


if __name__ == "__main__":
    unittest.main(verbosity=2)
