"""Issue 15's changed pages in real headless Chromium at 390 px: the rules page asking for a
reason before unblocking a high-risk category, and Health saying the audit trail is broken.
Each fits the screen, passes axe-core, and is saved as a screenshot to look at."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from selenium.webdriver.common.by import By

from dashboard.data import audit
from dashboard.data.db import connect
from tests.support.axe import axe_violations
from tests.test_dashboard_forms_browser import (  # noqa: F401 (browser is a fixture)
    PHONE,
    SCREENSHOTS,
    browser,
    log_in,
)
from tests.test_dashboard_forms_security import Home

pytestmark = pytest.mark.skipif(
    not __import__("pathlib").Path("/usr/bin/chromium").exists(),
    reason="needs Debian's chromium and chromium-driver (make system-deps)",
)


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Iterator[Home]:
    home = Home(tmp_path_factory.mktemp("home"))
    home.add_user("admin", "administrator")
    db = connect(home.database)
    for hours in range(3):
        audit.record(db, "cam", "rules.save", "sam", f"Sam: daily limit: {hours}h -> {hours + 1}h")
    db.close()
    home.process.start()
    yield home
    home.process.stop()


def fits_and_passes(driver, name: str) -> None:
    width = driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= PHONE[0], f"{name} is {width} px wide"
    assert axe_violations(driver) == [], name
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(SCREENSHOTS / f"issue15-{name}-390.png"))


def test_the_reason_box_shows_its_message_beside_it_at_390_px(home: Home, browser):  # noqa: F811
    browser.get(home.process.url + "/children/sam/blocked")
    if "/login" in browser.current_url:
        log_in(browser, home)
        browser.get(home.process.url + "/children/sam/blocked")
    assert axe_violations(browser) == [], "the rules page as it opens"
    adult = browser.find_element(By.ID, "cat-adult")
    if adult.is_selected():
        browser.execute_script("arguments[0].click()", adult)
    browser.execute_script(
        'document.querySelector(\'form[action$="/children/sam/blocked"]'
        " button[type=submit]').click()"
    )
    error = browser.find_element(By.ID, "reason-error")
    assert "high-risk category" in error.text and "adult: blocked -> allowed" in error.text
    box = browser.find_element(By.ID, "reason")
    assert box.get_attribute("aria-invalid") == "true" and box.size["height"] >= 44
    browser.execute_script("arguments[0].scrollIntoView()", box)
    fits_and_passes(browser, "rules-reason-needed")


def test_health_says_a_changed_audit_entry_broke_the_chain_at_390_px(home: Home, browser):  # noqa: F811
    browser.get(home.process.url + "/health")
    if "/login" in browser.current_url:
        log_in(browser, home)
    with sqlite3.connect(home.database) as db:
        db.execute("DROP TRIGGER IF EXISTS audit_no_update")
        db.execute("UPDATE audit SET detail = 'nothing to see' WHERE detail LIKE '%1h -> 2h%'")
    browser.get(home.process.url + "/health")
    text = browser.find_element(By.TAG_NAME, "main").text
    assert "Audit trail" in text and "broken" in text
    fits_and_passes(browser, "health-record-broken")


def test_your_alerts_fit_a_phone_at_390_px(home: Home, browser):  # noqa: F811
    browser.get(home.process.url + "/account")
    if "/login" in browser.current_url:
        log_in(browser, home)
        browser.get(home.process.url + "/account")
    section = browser.find_element(By.ID, "alerts-heading")
    browser.execute_script("arguments[0].scrollIntoView()", section)
    boxes = browser.find_elements(By.CSS_SELECTOR, "input[name=kind]")
    assert boxes and browser.find_element(By.ID, "email").size["height"] >= 44
    fits_and_passes(browser, "account-alerts")
