"""Issue 14 in real headless Chromium at 390 px against the real dashboard process: the Devices
page (the owner menu starts empty, rename, add by hand with a wrong address answered next to the
field), the blocked log (routine and high-risk rows that look different and say so in words, the
"high risk only" filter) and a child leaving (what is kept, a wrong name refused, then removed).
Each page: no horizontal overflow, axe-core clean, tap targets at least 44 px, screenshots."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import yaml
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from filterd.db.devices import Sighting
from filterd.dns.query import Reason
from tests.support.axe import axe_violations
from tests.support.chromium import needs_chromium
from tests.support.dashboard_home import Home, log_in
from tests.support.filterd_db import query_row, write_devices, write_query_log
from tests.support.filterd_process import wait_for
from tests.support.phone_page import SCREENSHOTS, assert_fits_phone

pytestmark = needs_chromium

NEW_PHONE = "aa:bb:cc:14:30:01"
NOW = time.time()


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Iterator[Home]:
    home = Home(tmp_path_factory.mktemp("home"))
    home.add_user("admin", "administrator")
    database = home.tmp / "filterd.db"
    write_devices(
        database,
        [Sighting(NEW_PHONE, "192.168.1.50", "galaxy-a14", None, None, None, False, NOW - 900)],
    )
    write_query_log(
        home.tmp,
        [
            query_row(NOW - 300, "harm.example", categories="self_harm"),
            query_row(NOW - 200, "late-game.example", reason=str(Reason.OFFLINE)),
            query_row(NOW - 100, "tiktokv.com", reason=str(Reason.LIMIT), service="tiktok"),
            query_row(NOW - 50, "shop.example", categories="shopping", client="192.168.1.50"),
        ],
    )
    home.process.start()
    yield home
    home.process.stop()


@pytest.fixture(scope="module")
def admin(home: Home, phone_browser):
    """The module's Chromium, signed in once as the administrator."""
    log_in(phone_browser, home)
    return phone_browser


def check_page(browser, name: str) -> None:
    """Fits 390 px, axe-core clean, every tap target at least 44 px high; a screenshot."""
    assert_fits_phone(browser, name)
    assert axe_violations(browser) == [], name
    small = browser.execute_script(
        "return [...document.querySelectorAll('main a, main button, main select, main summary,"
        " main input:not([type=hidden]):not([type=checkbox]):not([type=radio]), main .choice,"
        " main table input[type=checkbox]')]"
        ".filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < 44)"
        ".map(e => e.tagName + ' ' + (e.textContent || e.id).trim().slice(0, 40))"
    )
    assert small == [], f"{name}: tap targets under 44 px: {small}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"issue14-{name}-390.png"
    target.unlink(missing_ok=True)
    browser.execute_script("window.scrollTo(0, 0)")
    assert browser.save_screenshot(str(target))


def screenshot_of(browser, name: str, selector: str) -> None:
    element = browser.find_element(By.CSS_SELECTOR, selector)
    browser.execute_script("arguments[0].scrollIntoView()", element)
    assert browser.save_screenshot(str(SCREENSHOTS / f"issue14-{name}-390.png"))


def rules(home: Home) -> dict:
    return yaml.safe_load(home.rules_path.read_text())


def test_devices_on_a_phone(home: Home, admin):
    chrome = admin
    chrome.get(home.process.url + "/devices/")
    card = chrome.find_element(By.ID, "device-" + NEW_PHONE.replace(":", ""))
    assert "New" in card.text and "galaxy-a14" in card.text
    menu = Select(card.find_element(By.TAG_NAME, "select"))
    assert menu.first_selected_option.text == "Choose who uses this device"
    check_page(chrome, "devices")
    screenshot_of(chrome, "devices-new-card", "#device-" + NEW_PHONE.replace(":", ""))

    card.find_element(By.CSS_SELECTOR, "details:nth-of-type(1) summary").click()
    name = card.find_element(By.CSS_SELECTOR, "input[name=name]")
    name.clear()
    name.send_keys("Visitor's tablet")
    name.submit()
    assert wait_for(lambda: "Renamed to Visitor's tablet" in chrome.page_source, 10)
    card = chrome.find_element(By.ID, "device-" + NEW_PHONE.replace(":", ""))
    assert "Visitor's tablet" in card.find_element(By.TAG_NAME, "h3").text
    assert NEW_PHONE not in home.rules_path.read_text(), "an unlisted device stays unlisted"

    address = chrome.find_element(By.ID, "add-address")
    chrome.find_element(By.ID, "add-name").send_keys("Sam's Switch")
    address.send_keys("aa:bb:cc:dd:ee")
    Select(chrome.find_element(By.ID, "add-owner")).select_by_visible_text("Sam")
    chrome.find_element(By.CSS_SELECTOR, "#add-device button[type=submit]").click()
    assert wait_for(lambda: chrome.find_elements(By.ID, "address-add-error"), 10)
    error = chrome.find_element(By.ID, "address-add-error")
    assert error.text == (
        "That doesn't look like a device address. It looks like aa:bb:cc:dd:ee:ff or 192.168.1.23"
    )
    field = chrome.find_element(By.ID, "add-address")
    assert field.get_attribute("aria-invalid") == "true"
    assert chrome.find_element(By.ID, "add-name").get_attribute("value") == "Sam's Switch"
    check_page(chrome, "devices-add-refused")
    screenshot_of(chrome, "devices-add-refused-part", "#add-device")

    field.clear()
    field.send_keys("AA:BB:CC:14:30:09")
    chrome.find_element(By.CSS_SELECTOR, "#add-device button[type=submit]").click()
    assert wait_for(lambda: "Added Sam's Switch" in chrome.page_source, 10)
    assert {"mac": "aa:bb:cc:14:30:09", "name": "Sam's Switch", "owner": "sam"} in rules(home)[
        "devices"
    ]
    # A child's new device lands on its record (issue 17); its card says it is not filled in.
    assert chrome.current_url.endswith("/devices/aa:bb:cc:14:30:09/record")
    chrome.get(home.process.url + "/devices/")
    added = chrome.find_element(By.ID, "device-aabbcc143009")
    assert "Record not filled in" in added.text
    screenshot_of(chrome, "devices-added-part", "#device-aabbcc143009")


def test_the_blocked_log_on_a_phone(home: Home, admin):
    chrome = admin
    chrome.get(home.process.url + "/blocked/")
    rows = {r.find_element(By.TAG_NAME, "code").text: r for r in
            chrome.find_elements(By.CSS_SELECTOR, "table.blocked tbody tr")}  # fmt: skip
    harm, bedtime, app = rows["harm.example"], rows["late-game.example"], rows["tiktokv.com"]
    assert "High risk: self-harm" in harm.text and "Routine: Bedtime" in bedtime.text
    assert "Routine: App time used up" in app.text
    assert "Sam's tablet" in harm.text and "unknown device (192.168.1.50)" not in harm.text
    assert "galaxy-a14" in rows["shop.example"].text  # the name the device gives itself

    def look(row):
        return row.value_of_css_property("background-color"), row.value_of_css_property(
            "border-left-style"
        )

    assert look(harm) != look(bedtime) and look(bedtime) == look(app)
    check_page(chrome, "blocked-log")
    screenshot_of(chrome, "blocked-log-rows", "table.blocked")

    chrome.find_element(By.CSS_SELECTOR, "label[for=f-risk]").click()
    chrome.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    assert wait_for(lambda: "risk=high" in chrome.current_url, 10)
    shown = [r.find_element(By.TAG_NAME, "code").text for r in
             chrome.find_elements(By.CSS_SELECTOR, "table.blocked tbody tr")]  # fmt: skip
    assert shown == ["harm.example"]
    assert chrome.find_element(By.ID, "f-risk").is_selected()
    check_page(chrome, "blocked-log-high-risk-only")


def test_a_child_leaving_on_a_phone(home: Home, admin):
    chrome = admin
    chrome.get(home.process.url + "/children/")
    chrome.find_element(By.CSS_SELECTOR, "#leaving summary").click()
    chrome.find_element(By.LINK_TEXT, "Alex is leaving").click()
    main = chrome.find_element(By.TAG_NAME, "main").text
    assert "Nothing about Alex is deleted now" in main
    assert "Download Alex's blocked requests (CSV)" in main
    check_page(chrome, "child-leaving")

    assert "Alex has no devices listed" in main
    chrome.find_element(By.ID, "reason").send_keys("Moved to a new placement")
    chrome.find_element(By.ID, "confirm").send_keys("Sam")
    chrome.find_element(By.ID, "remove-child").click()
    assert wait_for(lambda: chrome.find_elements(By.ID, "confirm-error"), 10)
    error = chrome.find_element(By.ID, "confirm-error")
    assert "Type Alex to confirm" in error.text
    assert "alex" in rules(home)["children"]
    check_page(chrome, "child-leaving-refused")
    screenshot_of(chrome, "child-leaving-refused-part", "#remove-child")

    field = chrome.find_element(By.ID, "confirm")
    field.clear()
    field.send_keys("Alex")
    chrome.find_element(By.ID, "remove-child").click()
    assert wait_for(lambda: "Alex has been removed" in chrome.page_source, 10)
    assert "alex" not in rules(home)["children"]
    assert [row["target"] for row in home.audit_rows("child.remove")] == ["alex"]
