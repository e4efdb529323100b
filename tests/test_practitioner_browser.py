"""Issue 17 in a real browser at phone width: a carer fills in a device's record (a wrong answer
said next to its field, the checklist ticked by tapping its labels), an administrator adds a
social worker for two children, and the social worker reads those two children only. Real
dashboard process, real SQLite, Debian's headless Chromium at 390 px, axe-core, 44 px targets,
no horizontal overflow, screenshots in test-output/screenshots to look at."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import yaml
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By

from filterd.db.devices import Sighting
from tests.support.axe import axe_violations
from tests.support.chromium import PHONE, needs_chromium
from tests.support.dashboard_home import PASSWORD, Home, log_in
from tests.support.filterd_db import write_devices
from tests.support.filterd_process import wait_for
from tests.support.phone_page import SCREENSHOTS, assert_fits_phone

pytestmark = needs_chromium

TABLET = "aa:bb:cc:17:02:01"
# What a finger taps: each must be at least 44 px high (WCAG 2.5.5 / the project's standard).
TARGETS = (
    "main button, main select, main input:not([type=checkbox]):not([type=radio])"
    ":not([type=hidden]), main .choice label, main a.more, main a.button,"
    " header nav a, header nav button"
)


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Iterator[Home]:
    home = Home(tmp_path_factory.mktemp("home"))
    home.add_user("admin", "administrator")
    home.add_user("cam", "carer")
    rules = yaml.safe_load(home.rules_path.read_text())
    rules.pop("end_of_rules")  # reset_rules writes it back, last
    rules["children"]["kim"] = {"name": "Kimberley", "age_band": "16_17", "offline": []}
    rules["children"]["sam"]["limits"] = {"overall": "3h"}
    rules["devices"] = [{"mac": TABLET, "name": "Sam's tablet", "owner": "sam"}]
    home.reset_rules(rules)
    write_devices(
        home.tmp / "filterd.db",
        [Sighting(TABLET, "192.168.1.20", "sams-tab", None, None, None, False, time.time() - 9)],
    )
    home.process.start()
    yield home
    home.process.stop()


def check_page(browser, name: str) -> None:
    """Nothing wider than the phone, axe-core clean, every target 44 px high; a screenshot."""
    assert_fits_phone(browser, name)
    assert axe_violations(browser) == [], name
    small = [
        (e.tag_name, e.text[:40], e.size["height"])
        for e in browser.find_elements(By.CSS_SELECTOR, TARGETS)
        if e.is_displayed() and e.size["height"] < 44
    ]
    assert small == [], f"{name}: targets under 44 px: {small}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.execute_script("window.scrollTo(0, 0)")
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(PHONE[0], min(max(height, PHONE[1]), 4000))
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": PHONE[0], "height": min(max(height, PHONE[1]), 4000), "deviceScaleFactor": 1,
         "mobile": True},
    )  # fmt: skip
    assert browser.save_screenshot(str(SCREENSHOTS / f"issue17-{name}-390.png"))
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 1, "mobile": True},
    )


def main_text(browser) -> str:
    """The page's main text; '' while a new page replaces it (a wait asks again)."""
    try:
        return browser.find_element(By.TAG_NAME, "main").text
    except (NoSuchElementException, StaleElementReferenceException):
        return ""


def test_a_carer_fills_in_a_device_record_on_a_phone(home: Home, phone_browser) -> None:
    log_in(phone_browser, home, "cam", switch_user=True, timeout=10)
    phone_browser.get(home.process.url + "/devices/")
    link = phone_browser.find_element(By.ID, "record-" + TABLET.replace(":", ""))
    assert link.text == "Record not filled in"
    link.click()
    assert wait_for(lambda: "/record" in phone_browser.current_url, 10)
    check_page(phone_browser, "device-record-empty")

    phone_browser.find_element(By.ID, "account_holder").send_keys("Cam (carer)")
    phone_browser.execute_script(  # a date input is typed differently in each locale: set its value
        "document.getElementById('handed_over').value = arguments[0]",
        (date.today() - timedelta(days=1)).isoformat(),
    )
    phone_browser.find_element(By.CSS_SELECTOR, "label[for=reset-yes]").click()
    phone_browser.find_element(By.CSS_SELECTOR, "label[for=check-location_off]").click()
    phone_browser.find_element(By.ID, "save-record").click()
    # Who bought it was left empty: said by that field, and nothing typed is lost.
    assert wait_for(lambda: phone_browser.find_elements(By.ID, "bought_by-error"), 10)
    error = phone_browser.find_element(By.ID, "bought_by-error")
    assert error.text.startswith("Say who bought it")
    field = phone_browser.find_element(By.ID, "bought_by")
    assert "bought_by-error" in field.get_attribute("aria-describedby")
    assert (
        phone_browser.find_element(By.ID, "account_holder").get_attribute("value") == "Cam (carer)"
    )
    assert phone_browser.find_element(By.ID, "check-location_off").is_selected()
    check_page(phone_browser, "device-record-error")

    field.send_keys("the local authority")
    phone_browser.find_element(By.CSS_SELECTOR, "label[for=check-bookmarked]").click()
    phone_browser.find_element(By.ID, "save-record").click()
    assert wait_for(lambda: "Saved the record" in main_text(phone_browser), 10)
    text = main_text(phone_browser)
    assert "Record filled in by cam today at" in text and "2 of 5 done" in text
    assert phone_browser.find_element(By.ID, "check-location_off-by").text.startswith(
        "Ticked by cam today at"
    )
    check_page(phone_browser, "device-record-saved")
    ticks = [(r["user"], r["detail"]) for r in home.audit_rows("device.check")]
    assert ticks == [
        ("cam", "ticked: location sharing off"),
        ("cam", "ticked: child's page bookmarked"),
    ]


def test_a_social_worker_reads_only_the_two_children_given(home: Home, phone_browser) -> None:
    log_in(phone_browser, home, "admin", switch_user=True, timeout=10)
    phone_browser.get(home.process.url + "/people/")
    phone_browser.find_element(By.ID, "p-name").send_keys("Priya")
    phone_browser.find_element(By.CSS_SELECTOR, "#p-kind option[value=social_worker]").click()
    for label in phone_browser.find_elements(
        By.CSS_SELECTOR, "#practitioner-heading ~ form .choice label"
    ):
        if label.text in ("Sam", "Alex"):
            label.click()
    phone_browser.execute_script(
        "document.getElementById('p-last-day').value = arguments[0]",
        (date.today() + timedelta(days=120)).isoformat(),  # too far: at most 90 days
    )
    phone_browser.find_element(By.ID, "p-password").send_keys(PASSWORD)
    phone_browser.find_element(By.ID, "p-confirm").send_keys(PASSWORD)
    phone_browser.find_element(By.ID, "add-practitioner").click()
    assert wait_for(lambda: phone_browser.find_elements(By.ID, "p-last-day-error"), 10)
    assert (
        "At most 90 days from today" in phone_browser.find_element(By.ID, "p-last-day-error").text
    )
    assert phone_browser.title == "People · filterd"
    check_page(phone_browser, "people-practitioner-error")
    phone_browser.execute_script(
        "document.getElementById('p-last-day').value = arguments[0]",
        (date.today() + timedelta(days=28)).isoformat(),
    )
    phone_browser.find_element(By.ID, "p-password").send_keys(PASSWORD)
    phone_browser.find_element(By.ID, "p-confirm").send_keys(PASSWORD)
    phone_browser.find_element(By.ID, "add-practitioner").click()
    assert wait_for(lambda: "Added Priya" in main_text(phone_browser), 10)
    assert "Social worker: reads only Alex, Sam. Works until the end of" in main_text(phone_browser)

    log_in(phone_browser, home, "Priya", switch_user=True, timeout=10)
    assert phone_browser.current_url.endswith("/practitioner/")
    text = main_text(phone_browser)
    assert "Sam" in text and "Alex" in text and "Kimberley" not in text
    nav = phone_browser.find_element(By.CSS_SELECTOR, "header nav").text
    assert "Health" not in nav and "Devices" not in nav and "Children you can see" in nav
    check_page(phone_browser, "practitioner-children")
    phone_browser.find_element(By.LINK_TEXT, "Sam").click()
    assert wait_for(lambda: phone_browser.current_url.endswith("/practitioner/children/sam"), 10)
    text = main_text(phone_browser)
    assert "Daily limit: 3h" in text and "the local authority" in text
    assert "Location sharing off: done (ticked by cam" in text
    handed = date.today() - timedelta(days=1)
    assert f"Handed to the carer\n{handed.day} {handed:%B %Y}" in text
    check_page(phone_browser, "practitioner-sam")
    phone_browser.find_element(By.PARTIAL_LINK_TEXT, "online-safety agreement").click()
    assert wait_for(lambda: phone_browser.current_url.endswith("/children/sam/agreement"), 10)
    assert "No agreement is recorded yet." in main_text(phone_browser)
    assert not phone_browser.find_elements(By.CSS_SELECTOR, "main form")  # reads only
    check_page(phone_browser, "practitioner-sam-agreement")
    phone_browser.get(home.process.url + "/practitioner/children/kim")
    assert "Your account cannot see this child." in main_text(phone_browser)
    check_page(phone_browser, "practitioner-refused")
    # found by the outside check: this page's one link was 19 px tall
    back = phone_browser.find_element(By.LINK_TEXT, "Back to the children")
    assert back.size["height"] >= 44, back.size
    phone_browser.get(home.process.url + "/blocked/")
    assert (
        "Kimberley" not in phone_browser.page_source
        and "403" in phone_browser.title + main_text(phone_browser)
    )
    views = [(r["user"], r["target"]) for r in home.audit_rows("practitioner.view")]
    assert ("Priya", "sam") in views and ("Priya", "kim") not in views
