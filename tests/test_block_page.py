"""The block page (issue 14), end to end: a real filterd answers a child's device with the
box's own address (none typed in), and the dashboard's plain-HTTP listener shows that device,
in real headless Chromium at phone width, why the site is blocked and who can help.

Chromium's own DNS is irrelevant here: it is told to reach every *.example name at 127.0.0.1
(the plain-HTTP listener), and it connects from 127.0.0.1, which the rules give to Sam.
"""

from __future__ import annotations

import http.client
import socket
import sqlite3
import time
import urllib.parse
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.support.axe import axe_violations
from tests.support.block_page_box import ALEX, SAM, BlockPageBox
from tests.support.browser_stack import Stack
from tests.support.chromium import CHROMEDRIVER, CHROMIUM, start_chromium
from tests.support.dns_client import addresses
from tests.support.filterd_process import wait_for
from tests.support.phone_page import SCREENSHOTS

VISITOR = "127.0.0.9"  # listed nowhere
TZ = ZoneInfo("Europe/London")

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="needs Debian's chromium and chromium-driver (make system-deps)",
)


@pytest.fixture(scope="module")
def phone() -> Iterator[webdriver.Chrome]:
    """Chromium as Sam's device: every *.example name reaches the plain-HTTP listener."""
    driver = start_chromium(
        "--host-resolver-rules=MAP *.example 127.0.0.1, MAP filterd.home.arpa 127.0.0.1",
        "--disable-features=HttpsUpgrades",
        "--window-size=390,844",
        phone=True,
    )
    yield driver
    driver.quit()


def helpline_names(browser) -> list[str]:
    return [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#helplines li strong")]


def check_phone(browser, name: str, scope: str = "body") -> None:
    """390 px: nothing wider than the screen, tap targets >= 44 px, axe clean, screenshot."""
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 390, f"{name} is {width} px wide at 390"
    small = browser.execute_script(
        "return [...document.querySelectorAll(arguments[0] + ' :is(a, button, input, textarea,"
        " select)')].map(e => e.getBoundingClientRect())"
        ".filter(r => r.width > 0 && (r.height < 44 || r.width < 44)).length",
        scope,
    )
    assert small == 0, f"{name}: {small} tap targets under 44 px"
    assert axe_violations(browser) == [], name
    browser.execute_script("document.querySelector(arguments[0]).scrollIntoView()", scope)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(SCREENSHOTS / f"{name}-phone-390.png"))


def in_bedtime_now(box: BlockPageBox) -> datetime:
    """Sam's bedtime from an hour ago to an hour ahead, applied: his names answer 'offline'.
    Returns when it ends."""
    now = datetime.now(TZ)
    start, end = now - timedelta(hours=1), now + timedelta(hours=1)
    bedtime = {"days": "every_day", "start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")}
    box.write_rules(offline=[bedtime])
    time.sleep(2.5)  # filterd applies a rules file within 2 s
    box.blocked_and_logged("social.example", "offline")
    return end


def test_a_childs_blocked_site_explains_why_and_offers_the_right_helplines(
    block_page_box: BlockPageBox, phone
):
    block_page_box.blocked_and_logged("harm.example", "blocked")
    phone.get(f"http://harm.example:{block_page_box.http_port}/some/page")
    assert phone.find_element(By.TAG_NAME, "h1").text == "This site is blocked on this Wi-Fi"
    reason = phone.find_element(By.ID, "reason").text
    assert "hurting yourself" in reason
    assert helpline_names(phone) == ["Childline", "Samaritans", "Papyrus HOPELINE247"]
    assert "You can talk to someone" in phone.page_source
    page = phone.page_source
    assert "Sam" not in page.replace("Samaritans", "") and "Alex" not in page  # no names
    check_phone(phone, "block-page-self-harm")

    block_page_box.blocked_and_logged("thin.example", "blocked")
    phone.get(f"http://thin.example:{block_page_box.http_port}/")
    assert "eating" in phone.find_element(By.ID, "reason").text
    assert helpline_names(phone) == ["Childline", "Beat Youthline"]


def test_bedtime_a_spent_limit_and_a_pause_are_each_said_in_plain_words(
    block_page_box: BlockPageBox, phone
):
    end = in_bedtime_now(block_page_box)
    phone.get(f"http://social.example:{block_page_box.http_port}/")
    reason = phone.find_element(By.ID, "reason").text
    assert reason == (
        f"It is bedtime, so the internet is off on this device until {end:%H:%M}. Sleep well!"
    )
    assert helpline_names(phone) == ["Childline"]  # bedtime: Childline, always there
    check_phone(phone, "block-page-bedtime")

    block_page_box.write_rules(limits={"gaming": 0})
    time.sleep(2.5)
    block_page_box.blocked_and_logged("games.example", "limit")
    phone.get(f"http://games.example:{block_page_box.http_port}/")
    assert phone.find_element(By.ID, "reason").text == (
        "You have used up today's time for games. It comes back tomorrow."
    )

    until = datetime.now(TZ) + timedelta(minutes=45)
    pause = {"kind": "pause", "until": until.isoformat(timespec="seconds")}
    block_page_box.write_rules(overrides=[pause])
    time.sleep(2.5)
    block_page_box.blocked_and_logged("games.example", "paused")
    phone.get(f"http://games.example:{block_page_box.http_port}/")
    assert phone.find_element(By.ID, "reason").text == (
        "A grown-up who looks after you has paused the internet on this device until "
        f"{until:%H:%M}."
    )


def test_a_visitor_device_sees_only_the_general_page(block_page_box: BlockPageBox):
    block_page_box.blocked_and_logged("harm.example", "blocked")  # Sam's block is in the log...
    page = block_page_box.visit("harm.example", VISITOR)  # ...a visitor asking for the same name
    assert "This site is blocked on this Wi-Fi" in page
    assert "chosen to block this site on their Wi-Fi" in page
    assert "hurting yourself" not in page and "Samaritans" not in page
    assert "Childline" in page and "Sam" not in page
    # Alex's device: Alex's own rules do not block social sites, so the page there says
    # nothing of why Sam's block was made.
    block_page_box.blocked_and_logged("social.example", "blocked")
    sams = block_page_box.visit("social.example", SAM)
    alex = block_page_box.visit("social.example", ALEX)
    assert "This site is blocked because" in sams
    assert "This site is blocked because" not in alex


def test_the_page_is_right_on_the_first_request_after_the_dns_answer(block_page_box: BlockPageBox):
    """The browser asks for the page the moment DNS answers, before filterd's log row for the
    block is written: the page still says why, shows the right helplines and the ask form."""
    for n in range(8):
        name = f"fresh{n}.harm.example"  # never asked before: no log row can be there yet
        assert addresses(block_page_box.ask(name)) == [SAM]
        page = block_page_box.visit(name, SAM, "/")
        assert "hurting yourself" in page, name
        assert "Samaritans" in page and "Papyrus" in page and "Childline" in page, name
        assert '<form method="post">' in page, name


def test_markup_in_the_host_header_is_never_shown_as_markup(block_page_box: BlockPageBox):
    page = block_page_box.visit("<script>alert(1)</script>.example", VISITOR)
    assert "<script>" not in page and "alert(1)" not in page


def test_the_dashboards_own_name_still_goes_to_https(block_page_box: BlockPageBox):
    # The fully qualified name (a trailing dot), in any case, is the same name.
    for host in ("filterd.home.arpa", "filterd.home.arpa.", "FilterD.Home.ARPA."):
        connection = http.client.HTTPConnection("127.0.0.1", block_page_box.http_port, timeout=5)
        connection.request("GET", "/", headers={"Host": host})
        response = connection.getresponse()
        assert response.status == 308, host
        assert response.getheader("Location").startswith("https://filterd.home.arpa:"), host
        connection.close()


def test_block_page_style_needs_no_address_typed_by_hand():
    """The box's address toward a client is the one the client reached it on."""
    from filterd.dns.block_answers import BoxAddress

    block_page_box = BoxAddress()
    assert block_page_box.toward("127.0.0.1") == socket.inet_aton("127.0.0.1")
    assert block_page_box.toward("not an address") is None


def test_a_child_asks_a_carer_allows_30_minutes_and_it_ends_by_itself(
    block_page_box: BlockPageBox, phone
):
    block_page_box.blocked_and_logged("social.example", "blocked")
    phone.get(f"http://social.example:{block_page_box.http_port}/")
    phone.find_element(By.ID, "message").send_keys("<b>homework</b> project")
    check_phone(phone, "block-page-ask")
    phone.find_element(By.XPATH, "//button[.='Ask for access']").click()
    assert wait_for(lambda: phone.find_elements(By.ID, "asked"), 5)
    assert block_page_box.requests_stored() == [
        ("sam", "Sam's tablet", "social.example", "<b>homework</b> project", "waiting", "")
    ]
    event_log = sqlite3.connect(block_page_box.filterd.db_path)
    kinds = [row[0] for row in event_log.execute("SELECT kind FROM events")]
    event_log.close()
    assert "access.requested" in kinds

    carer = Stack(block_page_box.filterd, block_page_box.dashboard, phone)
    carer.add_user("jo", "carer")
    carer.log_in("jo")
    request = phone.find_element(By.CSS_SELECTOR, "#access-requests li")
    assert "Sam asked for social.example" in request.text
    assert "<b>homework</b> project" in request.text  # shown as text, never as markup
    check_phone(phone, "home-access-request", "#access-requests")
    request.find_element(By.XPATH, ".//button[.='Allow for 30 minutes']").click()
    assert wait_for(lambda: not phone.find_elements(By.ID, "access-requests"), 5)
    assert "Allowed for 30 minutes" in phone.find_element(By.CSS_SELECTOR, ".flash.ok").text

    def resolves() -> bool:
        return addresses(block_page_box.ask("social.example")) not in ([SAM], [])

    assert wait_for(resolves, 2), "the approval did not reach DNS within 2 s"
    assert block_page_box.requests_stored()[0][4] == "approved"
    with sqlite3.connect(block_page_box.filterd.config["dashboard"]["database"]) as db:
        actions = [row[0] for row in db.execute("SELECT action FROM audit")]
    assert "access.approve" in actions

    block_page_box.clock.write_text(str(31 * 60))  # 31 minutes later, for filterd
    assert wait_for(lambda: addresses(block_page_box.ask("social.example")) == [SAM], 3)


def test_requests_are_capped_per_device_and_never_for_illegal_content_or_visitors(
    block_page_box: BlockPageBox,
):
    block_page_box.blocked_and_logged("social.example", "blocked")
    assert block_page_box.post("social.example", SAM, "x" * 201) == 400  # too long: nothing stored
    assert block_page_box.post("social.example", SAM, "please", origin="http://evil.example") == 403
    assert [block_page_box.post("social.example", SAM, f"try {n}") for n in range(4)] == [
        303
    ] * 3 + [429]
    assert len(block_page_box.requests_stored()) == 3

    block_page_box.blocked_and_logged(
        "forbidden.example", "blocked", answer="0.0.0.0"
    )  # illegal tier
    assert "Ask for access" not in block_page_box.visit("forbidden.example", SAM)
    assert block_page_box.post("forbidden.example", SAM, "please") == 403
    assert (
        block_page_box.post("harm.example", VISITOR, "please") == 403
    )  # a visitor: no carer to ask
    assert len(block_page_box.requests_stored()) == 3


def test_the_childs_own_page_says_what_applies_and_shows_a_declined_note(
    block_page_box: BlockPageBox, phone
):
    block_page_box.write_rules(limits={"overall": 60, "gaming": 30, "youtube": 45})
    time.sleep(2.5)
    block_page_box.blocked_and_logged("social.example", "blocked")
    me = f"http://filterd.home.arpa:{block_page_box.http_port}/me"
    phone.get(me)
    lines = phone.find_element(By.ID, "now").text
    assert "Time online today: 0 of 60 minutes" in lines
    assert "Time for games today: 0 of 30 minutes" in lines
    assert "Time for YouTube today: 0 of 45 minutes" in lines  # an app's own limit too
    assert "https://" in lines  # why an https site shows no block page
    names = [e.text for e in phone.find_elements(By.CSS_SELECTOR, "#helplines li strong")]
    assert names[0] == "Childline" and "FRANK" in names
    phone.find_element(By.ID, "site").send_keys("social.example")
    phone.find_element(By.ID, "message").send_keys("for my class group")
    phone.find_element(By.XPATH, "//button[.='Ask for access']").click()
    assert wait_for(lambda: phone.find_elements(By.ID, "asked"), 5)
    assert "Waiting for an answer" in phone.find_element(By.ID, "requests").text
    check_phone(phone, "child-own-page")

    carer = Stack(block_page_box.filterd, block_page_box.dashboard, phone)
    carer.add_user("jo", "carer")
    carer.log_in("jo")
    request = phone.find_element(By.CSS_SELECTOR, "#access-requests li")
    check_phone(phone, "home-access-request", "#access-requests")
    assert "Allow until bedtime" not in request.text  # Sam has no bedtime in these rules
    request.find_element(By.CSS_SELECTOR, "input[name=note]").send_keys("Ask me after tea")
    request.find_element(By.XPATH, ".//button[.='Decline']").click()
    assert wait_for(lambda: not phone.find_elements(By.ID, "access-requests"), 5)

    phone.get(me)
    answer = phone.find_element(By.ID, "requests").text
    assert "social.example" in answer and "No. The grown-up said: Ask me after tea" in answer
    assert addresses(block_page_box.ask("social.example")) == [SAM]  # still blocked

    # A site filterd did not block for this device cannot be asked for from here.
    phone.find_element(By.ID, "site").send_keys("never-blocked.example")
    phone.find_element(By.XPATH, "//button[.='Ask for access']").click()
    assert wait_for(lambda: phone.find_elements(By.ID, "ask-error"), 5)
    assert len(block_page_box.requests_stored()) == 1


def test_a_visitor_sees_the_general_own_page(block_page_box: BlockPageBox):
    block_page_box.write_rules(limits={"overall": 60})
    page = block_page_box.visit("filterd.home.arpa", VISITOR, "/me")
    assert "not set up as anyone" in page and "Childline" in page
    assert "Time online" not in page and "What you asked for" not in page


def test_a_blocked_app_is_named_on_the_block_page(block_page_box: BlockPageBox):
    block_page_box.write_rules(services={"tiktok": "blocked"})
    time.sleep(2.5)
    block_page_box.blocked_and_logged("tiktok.com", "blocked")
    page = block_page_box.visit("tiktok.com", SAM)
    assert "TikTok is blocked for you on this Wi-Fi." in page


def test_at_bedtime_asking_from_the_own_page_is_answered_kindly(block_page_box: BlockPageBox):
    in_bedtime_now(block_page_box)
    connection = http.client.HTTPConnection(
        "127.0.0.1", block_page_box.http_port, timeout=5, source_address=(SAM, 0)
    )
    body = urllib.parse.urlencode({"site": "social.example", "message": "please"})
    headers = {"Host": "filterd.home.arpa", "Content-Type": "application/x-www-form-urlencoded"}
    try:
        connection.request("POST", "/me", body=body, headers=headers)
        response = connection.getresponse()
        page = response.read().decode()
    finally:
        connection.close()
    assert response.status == 403
    assert "It is bedtime now" in page and "ask a grown-up who looks after you tomorrow" in page
    assert "cannot be asked for from here" not in page
    assert block_page_box.requests_stored() == []
