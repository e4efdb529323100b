"""The child card on the home page tells the truth about what is in force (issue 14).

A real dashboard process on a real rules file and a real filterd.db (usage written as
filterd's tracker writes it): extra time raises the allowance shown, a spent limit says so in
words and red, every active override is listed with its end and an Undo that removes it and is
audited, pause takes a duration and pauses everyone, and +30 asks: today's limit or bedtime.
Then Chromium at 390 px: nothing wider than the screen, tap targets >= 44 px, axe-core clean.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml
from selenium.webdriver.common.by import By

from tests.support.axe import axe_violations
from tests.support.chromium import needs_chromium
from tests.support.dashboard_home import PASSWORD, Home
from tests.support.filterd_db import write_usage
from tests.support.filterd_process import wait_for
from tests.support.phone_page import SCREENSHOTS
from tests.support.web_client import Device

LONDON = ZoneInfo("Europe/London")


def _now() -> datetime:
    return datetime.now(LONDON)


def card_rules() -> dict:
    """Mia: an hour a day and a bedtime two hours from now (so it is never bedtime during the
    test); Leo: no limit, no bedtime."""
    now = _now()
    start = (now + timedelta(hours=2)).strftime("%H:%M")
    end = (now + timedelta(hours=3)).strftime("%H:%M")
    return {
        "timezone": "Europe/London",
        "unknown_devices": "strict",
        "children": {
            "mia": {
                "name": "Mia",
                "age_band": "9_12",
                "offline": [{"days": "every_day", "start": start, "end": end}],
                "limits": {"overall": "1h"},
            },
            "leo": {"name": "Leo", "age_band": "13_15", "offline": []},
        },
        "devices": [],
    }


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Iterator[Home]:
    home = Home(tmp_path_factory.mktemp("card"))
    home.add_user("cam", "carer")
    home.process.start()
    yield home
    home.process.stop()


@pytest.fixture
def fresh(home: Home) -> Home:
    home.reset_rules(card_rules())
    day = _now().strftime("%Y-%m-%d")
    write_usage(home.tmp / "filterd.db", [(day, "mia", "overall", 60)])  # all of the hour
    return home


def card(page: str, child: str) -> str:
    """The text of one child's card, tags removed, spaces squeezed."""
    found = re.search(rf'<li class="card" id="child-{child}">(.*?)\n  </li>', page, re.S)
    assert found, f"no card for {child}"
    text = re.sub(r"<[^>]+>", " ", found[1])
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def flash(page: str) -> str:
    found = re.search(r'class="flash ok"[^>]*>(.*?)</', page, re.S)
    return html.unescape(found[1]).strip() if found else ""


def quick(device: Device, child: str, **form: str):
    return device.post(
        f"/children/{child}/quick", {"csrf": device.csrf(), "version": version(device), **form}
    )


def version(device: Device) -> str:
    found = re.search(r'name="version" value="([^"]+)"', device.get("/").text)
    assert found
    return found[1]


def overrides(home: Home, child: str) -> list[dict]:
    rules = yaml.safe_load(home.rules_path.read_text())
    return rules["children"][child].get("overrides") or []


def test_extra_time_shows_the_new_allowance_and_undo_removes_it_with_an_audit(fresh: Home):
    carer = fresh.signed_in("cam")
    before = card(carer.get("/").text, "mia")
    assert "60 of 60 min" in before and "Used up" in before, before
    assert 'class="spent"' in carer.get("/").text  # drawn red, not as a full green bar

    done = quick(carer, "mia", action="extra")
    assert done.status == 302
    page = carer.get("/").text
    assert flash(page) == "Mia has 30 more minutes today."
    shown = card(page, "mia")
    assert "60 of 90 min (with 30 extra)" in shown and "Used up" not in shown, shown
    assert "+30 min on today's limit" in shown and "Undo" in shown
    assert "child.extra" not in page and "extra_time" not in page

    [extra] = overrides(fresh, "mia")
    assert extra["kind"] == "extra_time"
    quick(carer, "mia", action="undo", until="0")
    page = carer.get("/").text
    assert html.unescape(flash(page)) == "Undone for Mia: +30 min on today's limit."
    assert overrides(fresh, "mia") == []
    shown = card(page, "mia")
    assert "60 of 60 min" in shown and "Used up" in shown and "Undo" not in shown
    [undo] = fresh.audit_rows("child.undo")
    assert undo["user"] == "cam" and undo["target"] == "mia"


def test_pause_for_a_while_lists_since_and_until_and_a_stale_undo_is_refused(fresh: Home):
    carer = fresh.signed_in("cam")
    quick(carer, "mia", action="pause", until_pause="30")
    page = carer.get("/").text
    [pause] = overrides(fresh, "mia")
    ends = datetime.strptime(pause["until"], "%Y-%m-%d %H:%M")
    assert flash(page) == f"Mia is paused until {ends:%H:%M}."
    started = pause["note"].removeprefix("since ")[-5:]
    # An end on another day than today is shown with its day, as the card does it.
    shown = f"{ends:%H:%M}" if ends.date() == _now().date() else f"{ends:%A %H:%M}"
    assert f"Paused since {started}, until {shown}" in card(page, "mia")

    quick(carer, "mia", action="undo", until="0")
    assert overrides(fresh, "mia") == []
    again = quick(carer, "mia", action="undo", until="0")  # already gone: said, nothing lost
    assert "already ended" in html.unescape(carer.get("/").text), again


def test_pause_everyone_on_top_of_a_childs_pause_shows_one_pause_and_undo_ends_it(fresh: Home):
    carer = fresh.signed_in("cam")
    quick(carer, "mia", action="pause", until_pause="30")
    carer.post(
        "/children/everyone/pause",
        {"csrf": carer.csrf(), "version": version(carer), "action": "pause", "until": ""},
    )
    assert [o["kind"] for o in overrides(fresh, "mia")] == ["pause", "pause"]
    shown = card(carer.get("/").text, "mia")
    assert shown.count("Paused since") == 1 and "until you resume" in shown, shown
    assert shown.count("Undo") == 1, shown
    quick(carer, "mia", action="undo", until="0")
    assert overrides(fresh, "mia") == []  # Mia is not left paused
    assert "Paused" not in card(carer.get("/").text, "mia")


def test_pause_refuses_a_duration_it_does_not_offer(fresh: Home):
    carer = fresh.signed_in("cam")
    quick(carer, "mia", action="pause", until_pause="9999")
    assert "Choose 15 minutes, 30 minutes, 1 hour or until you resume" in html.unescape(
        carer.get("/").text
    )
    assert overrides(fresh, "mia") == []


def test_pause_everyone_and_resume_everyone_through_page_and_api(fresh: Home):
    carer = fresh.signed_in("cam")
    carer.post(
        "/children/everyone/pause",
        {"csrf": carer.csrf(), "version": version(carer), "action": "pause", "until": ""},
    )
    page = carer.get("/").text
    assert flash(page) == "Everyone is paused until you resume."
    for child in ("mia", "leo"):
        assert "Paused since" in card(page, child) and "until you resume" in card(page, child)
        assert [o["kind"] for o in overrides(fresh, child)] == ["pause"]
    *_, entry = fresh.audit_rows("everyone.pause")  # the latest
    assert entry["user"] == "cam"
    mia = next(
        c for c in json.loads(carer.get("/api/children").text)["children"] if c["id"] == "mia"
    )
    assert mia["overrides"][0]["kind"] == "pause" and mia["overrides"][0]["index"] == 0
    assert mia["allowed"] == {"overall": 60} and mia["has_bedtime"] is True

    session = json.loads(carer.get("/api/session").text)
    reply = carer.request(
        "POST",
        "/api/everyone/actions",
        json_text=json.dumps({"action": "resume", "version": version(carer)}),
        headers={"X-CSRF-Token": session["csrf"]},
    )
    assert reply.status == 200, reply.text
    assert json.loads(reply.text)["message"] == "Everyone can use the internet again."
    assert overrides(fresh, "mia") == [] and overrides(fresh, "leo") == []
    assert len(fresh.audit_rows("everyone.resume")) == 1
    children = json.loads(carer.get("/api/children").text)["children"]
    assert [c["overrides"] for c in children] == [[], []]


def test_plus_thirty_asks_limit_or_bedtime_and_bedtime_moves_thirty_minutes(fresh: Home):
    carer = fresh.signed_in("cam")
    page = carer.get("/").text
    mia, leo = card(page, "mia"), card(page, "leo")
    assert "30 more minutes for Mia On today's limit Before bedtime" in mia
    assert "30 more minutes for Leo" not in leo  # no limit and no bedtime: nothing to add to
    assert "Lift bedtime" in mia and "Lift bedtime" not in leo

    quick(carer, "mia", action="extra_bedtime")
    [lift] = overrides(fresh, "mia")
    bedtime = card_rules()["children"]["mia"]["offline"][0]["start"]
    now = _now()
    hour, minute = map(int, bedtime.split(":"))
    start = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if start < now:  # two hours from a late evening: tonight's bedtime is after midnight
        start += timedelta(days=1)
    ends = start + timedelta(minutes=30)
    later = ends.strftime("%H:%M")
    # A moment on another day than today is shown with its day, as the card does it.
    shown = later if ends.date() == now.date() else ends.strftime("%A %H:%M")
    assert lift["kind"] == "lift_bedtime" and lift["until"].endswith(later)
    page = carer.get("/").text
    assert flash(page) == f"Mia has 30 more minutes until {later}."
    assert f"Bedtime lifted until {shown}" in card(page, "mia")
    assert "lift bedtime for" not in page and "child.extra_bedtime" not in page
    [entry] = fresh.audit_rows("child.extra_bedtime")
    assert entry["target"] == "mia"


@needs_chromium
def test_the_home_page_at_phone_width_with_overrides_and_a_spent_limit(fresh: Home, browser):
    """Chromium at 390 px: the card with a pause, lifted bedtime and a spent limit fits the
    screen, every control is a 44 px tap target, axe-core finds nothing; screenshot saved."""
    carer = fresh.signed_in("cam")
    quick(carer, "mia", action="pause", until_pause="60")
    quick(carer, "mia", action="extra_bedtime")
    quick(carer, "leo", action="pause", until_pause="")
    browser.delete_all_cookies()
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True},
    )
    url = fresh.process.url
    browser.get(url + "/login")
    browser.find_element(By.ID, "name").send_keys("cam")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form.stack button[type=submit]").click()
    assert wait_for(lambda: browser.current_url.rstrip("/") == url, 5)

    mia = browser.find_element(By.ID, "child-mia").text
    assert "Used up" in mia and "60 of 60 min" in mia
    assert "Paused since" in mia and "Bedtime lifted until" in mia
    meter = browser.find_element(By.CSS_SELECTOR, "#child-mia meter")
    assert float(meter.get_attribute("value")) > float(meter.get_attribute("high"))  # red
    spent = browser.find_element(By.CSS_SELECTOR, "#child-mia dd.spent")
    assert spent.value_of_css_property("color") == "rgba(164, 0, 15, 1)"  # --bad

    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 390, f"the home page is {width} px wide at 390"
    small = browser.execute_script(
        "return [...document.querySelectorAll("
        "'button, select, input:not([type=hidden]), a.button, header a, summary')]"
        ".map(e => [e.getBoundingClientRect(), e.outerHTML.slice(0, 60)])"
        ".filter(([r]) => r.width > 0 && (r.width < 44 || r.height < 44))"
        ".map(([r, h]) => `${Math.round(r.width)}x${Math.round(r.height)} ${h}`)"
    )
    assert small == [], small
    assert axe_violations(browser) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    full = browser.execute_script("return document.documentElement.scrollHeight")
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 390, "height": full, "deviceScaleFactor": 1, "mobile": True},
    )
    target = SCREENSHOTS / "home-child-card-phone-390.png"
    assert browser.save_screenshot(str(target))
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_a_site_allowed_always_is_in_force_on_the_card_with_an_undo(home: Home):
    rules = card_rules()
    rules["children"]["mia"]["allow"] = ["seedsman.com"]
    home.reset_rules(rules)
    carer = home.signed_in("cam")
    shown = card(carer.get("/").text, "mia")
    assert "In force now" in shown and "Site allowed always: seedsman.com" in shown, shown
    quick(carer, "mia", action="undo", until="allow:seedsman.com")
    assert flash(carer.get("/").text) == "Undone for Mia: seedsman.com is no longer allowed always."
    assert "allow" not in yaml.safe_load(home.rules_path.read_text())["children"]["mia"]
    assert "seedsman.com" not in card(carer.get("/").text, "mia")
