"""Issue 12's changed pages in real headless Chromium at 390 px: the paged audit trail, the home
page's "not in force" banner and the Health page's list sources. Each fits the screen, keeps
tap targets at 44 px, passes axe-core, and is saved as a screenshot to look at."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from dashboard.data import audit
from dashboard.data.blocked_log import record_reviews
from dashboard.data.db import connect
from tests.support.axe import axe_violations
from tests.support.chromium import CHROMEDRIVER, CHROMIUM, PHONE, start_chromium
from tests.support.filterd_process import wait_for
from tests.support.upstream_process import PROJECT_ROOT
from tests.test_dashboard_forms_security import (
    PASSWORD,
    SECRET_KEY,
    SECRET_PASSWORD,
    Home,
    write_blocked,
)

SCREENSHOTS = PROJECT_ROOT / "test-output" / "screenshots"

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="needs Debian's chromium and chromium-driver (make system-deps)",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    driver = start_chromium(phone=True)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Iterator[Home]:
    home = Home(tmp_path_factory.mktemp("home"))
    home.add_user("admin", "administrator")
    assert home.command("lists", "update", "--offline").returncode == 0
    db = connect(home.database)  # a long trail: more than one page, long lines in it
    for number in range(130):
        audit.record(db, "cam", "login")
        if number % 40 == 0:
            audit.record(db, "cam", "rules.save", "(api)", "children.sam.limits.overall; " * 20)
    (query_id,) = write_blocked(home, ["harm-seen-twice.example"])
    record_reviews(db, [query_id], "discussed_with_child", "Talked it through at tea", "lee")
    record_reviews(db, [query_id], "raised_with_dsl", "Raised after a second search", "lee")
    db.close()
    home.process.start()
    yield home
    home.process.stop()


def log_in(browser, home: Home) -> None:
    browser.get(home.process.url + "/login")
    browser.find_element(By.ID, "name").send_keys("admin")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    assert wait_for(lambda: not browser.current_url.endswith("/login"), 5)


def test_changed_pages_fit_a_phone_and_pass_axe(home: Home, browser):
    log_in(browser, home)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pages = {
        "audit-trail": "/audit/",
        "audit-trail-older": "/audit/?page=2",
        "home-not-in-force": "/",
        "health-list-sources": "/health",
        "blocked-earlier-reviews": "/blocked/?range=24h",
    }
    for name, path in pages.items():
        browser.get(home.process.url + path)
        opened = "details.earlier summary, #lists details summary"
        for summary in browser.find_elements(By.CSS_SELECTOR, opened):
            summary.click()  # the earlier reviews and where the lists come from, opened to read
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= PHONE[0], f"{path} is {width} px wide"
        assert axe_violations(browser) == [], path
        target = SCREENSHOTS / f"issue12-{name}-390.png"
        target.unlink(missing_ok=True)
        browser.execute_script("window.scrollTo(0, 0)")
        assert browser.save_screenshot(str(target))

        if path.startswith("/audit/"):
            links = browser.find_elements(By.CSS_SELECTOR, ".pager a")
            assert links and all(link.size["height"] >= 44 for link in links), path
        if path == "/":
            shown = browser.find_element(By.ID, "not-applied").text
            assert "not in force" in shown and "filterd has not reported" in shown
        if path.startswith("/blocked/"):
            text = browser.find_element(By.TAG_NAME, "main").text
            assert "Earlier reviews (1)" in text and "Talked it through at tea" in text
        if path == "/health":
            text = browser.find_element(By.TAG_NAME, "main").text
            assert "lists.example/adult.txt" in text
            assert SECRET_PASSWORD not in text and SECRET_KEY not in text

    browser.get(home.process.url + "/audit/")
    browser.find_element(By.LINK_TEXT, "Oldest entries").click()
    assert "page=2" in browser.current_url
    assert "Page 2 of 2" in browser.find_element(By.TAG_NAME, "main").text
