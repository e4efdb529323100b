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
from tests.support.chromium import PHONE, needs_chromium
from tests.support.dashboard_home import Home, log_in
from tests.support.phone_page import SCREENSHOTS

pytestmark = needs_chromium


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


def test_the_reason_box_shows_its_message_beside_it_at_390_px(home: Home, phone_browser):
    phone_browser.get(home.process.url + "/children/sam/blocked")
    if "/login" in phone_browser.current_url:
        log_in(phone_browser, home)
        phone_browser.get(home.process.url + "/children/sam/blocked")
    assert axe_violations(phone_browser) == [], "the rules page as it opens"
    adult = phone_browser.find_element(By.ID, "cat-adult")
    if adult.is_selected():
        phone_browser.execute_script("arguments[0].click()", adult)
    phone_browser.execute_script(
        'document.querySelector(\'form[action$="/children/sam/blocked"]'
        " button[type=submit]').click()"
    )
    error = phone_browser.find_element(By.ID, "reason-error")
    assert "high-risk category" in error.text and "adult: blocked -> allowed" in error.text
    box = phone_browser.find_element(By.ID, "reason")
    assert box.get_attribute("aria-invalid") == "true" and box.size["height"] >= 44
    phone_browser.execute_script("arguments[0].scrollIntoView()", box)
    fits_and_passes(phone_browser, "rules-reason-needed")


def test_health_says_a_changed_audit_entry_broke_the_chain_at_390_px(home: Home, phone_browser):
    phone_browser.get(home.process.url + "/health")
    if "/login" in phone_browser.current_url:
        log_in(phone_browser, home)
    with sqlite3.connect(home.database) as db:
        db.execute("DROP TRIGGER IF EXISTS audit_no_update")
        db.execute("UPDATE audit SET detail = 'nothing to see' WHERE detail LIKE '%1h -> 2h%'")
    phone_browser.get(home.process.url + "/health")
    text = phone_browser.find_element(By.TAG_NAME, "main").text
    assert "Audit trail" in text and "broken" in text
    fits_and_passes(phone_browser, "health-record-broken")


def test_your_alerts_fit_a_phone_at_390_px(home: Home, phone_browser):
    phone_browser.get(home.process.url + "/account")
    if "/login" in phone_browser.current_url:
        log_in(phone_browser, home)
        phone_browser.get(home.process.url + "/account")
    section = phone_browser.find_element(By.ID, "alerts-heading")
    phone_browser.execute_script("arguments[0].scrollIntoView()", section)
    boxes = phone_browser.find_elements(By.CSS_SELECTOR, "input[name=kind]")
    assert boxes and phone_browser.find_element(By.ID, "email").size["height"] >= 44
    fits_and_passes(phone_browser, "account-alerts")
