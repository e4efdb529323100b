"""Issue 12's changed pages in real headless Chromium at 390 px: the paged audit trail, the home
page's "not in force" banner and the Health page's list sources. Each fits the screen, keeps
tap targets at 44 px, passes axe-core, and is saved as a screenshot to look at."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium.webdriver.common.by import By

from dashboard.data import audit
from dashboard.data.blocked_log import record_reviews
from dashboard.data.db import connect
from tests.support.axe import axe_violations
from tests.support.chromium import PHONE, needs_chromium
from tests.support.dashboard_home import SECRET_KEY, SECRET_PASSWORD, Home, log_in, write_blocked
from tests.support.phone_page import SCREENSHOTS

pytestmark = needs_chromium


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


def test_changed_pages_fit_a_phone_and_pass_axe(home: Home, phone_browser):
    log_in(phone_browser, home)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pages = {
        "audit-trail": "/audit/",
        "audit-trail-older": "/audit/?page=2",
        "home-not-in-force": "/",
        "health-list-sources": "/health",
        "blocked-earlier-reviews": "/blocked/?range=24h",
    }
    for name, path in pages.items():
        phone_browser.get(home.process.url + path)
        opened = "details.earlier summary, #lists details summary"
        for summary in phone_browser.find_elements(By.CSS_SELECTOR, opened):
            summary.click()  # the earlier reviews and where the lists come from, opened to read
        width = phone_browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= PHONE[0], f"{path} is {width} px wide"
        assert axe_violations(phone_browser) == [], path
        target = SCREENSHOTS / f"issue12-{name}-390.png"
        target.unlink(missing_ok=True)
        phone_browser.execute_script("window.scrollTo(0, 0)")
        assert phone_browser.save_screenshot(str(target))

        if path.startswith("/audit/"):
            links = phone_browser.find_elements(By.CSS_SELECTOR, ".pager a")
            assert links and all(link.size["height"] >= 44 for link in links), path
        if path == "/":
            shown = phone_browser.find_element(By.ID, "not-applied").text
            assert "not in force" in shown and "filterd has not reported" in shown
        if path.startswith("/blocked/"):
            text = phone_browser.find_element(By.TAG_NAME, "main").text
            assert "Earlier reviews (1)" in text and "Talked it through at tea" in text
        if path == "/health":
            text = phone_browser.find_element(By.TAG_NAME, "main").text
            assert "lists.example/adult.txt" in text
            assert SECRET_PASSWORD not in text and SECRET_KEY not in text

    phone_browser.get(home.process.url + "/audit/")
    phone_browser.find_element(By.LINK_TEXT, "Oldest entries").click()
    assert "page=2" in phone_browser.current_url
    assert "Page 2 of 2" in phone_browser.find_element(By.TAG_NAME, "main").text
