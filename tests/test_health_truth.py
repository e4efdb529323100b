"""Health that tells the truth (issue 13), with a real filterd, a real upstream process and the
real dashboard: an upstream answering SERVFAIL to everything, or stopped, is named on Health as
down and the home page shows a banner that goes away once it recovers; log entries filterd
could not write are counted on Health; a stopped filterd is "not answering"; a nearly full disk
(judged against `dashboard.disk_warning_mb`, which the test sets above any real disk's free
space: mounting a small filesystem needs root, which CI does not have) is a banner too. Then
both pages at 390 px in Chromium: axe clean, nothing wider than the screen, 44 px tap targets.
"""

from __future__ import annotations

import html
import re
import sqlite3
import threading
import time
from pathlib import Path

import pytest
import yaml
from selenium.webdriver.common.by import By

from dashboard.data.health_checks import Clock, dns_check
from filterd.db.read import FilterdReader
from filterd.db.retention import Retention
from filterd.rules.guards import with_end_line
from tests.support.axe import axe_violations
from tests.support.chromium import start_chromium
from tests.support.dashboard_home import add_user
from tests.support.dashboard_process import DashboardProcess
from tests.support.dns_client import ask, rcode
from tests.support.filterd_process import free_port, wait_for
from tests.support.loopback_home import base_rules
from tests.support.names import unique
from tests.support.phone_page import assert_fits_phone
from tests.support.upstream_process import ScriptedUpstream
from tests.support.web_client import Device

PASSWORD = "a long pass phrase for the box"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"
HEARTBEAT_WAIT = 15  # filterd writes its heartbeat every 5 s (2 s ticks)


def home_rules() -> dict:
    """Two children; the test's own questions come from an address nobody assigned, answered
    by household rules (no bedtime: the test runs at any hour)."""
    return {**base_rules(), "unknown_devices": "household"}


class HealthBox:
    """filterd, its own upstream and the dashboard, with an administrator logged in."""

    def __init__(self, start_filterd, tmp_path: Path, disk_warning_mb: int = 1) -> None:
        self.upstream = ScriptedUpstream().start()
        sync = tmp_path / "synchronised"
        sync.write_text("synchronised")
        self.rules_path = tmp_path / "rules.yaml"
        self.rules_path.write_text(with_end_line(yaml.safe_dump(home_rules())))
        self.listen = f"127.0.0.1:{free_port()}"
        self.filterd = start_filterd(
            upstreams=[self.upstream.addr],
            rules=str(self.rules_path),
            dashboard={
                "listen": self.listen,
                "database": str(tmp_path / "dashboard.db"),
                "disk_warning_mb": disk_warning_mb,
            },
            env={"FILTERD_CLOCK_SYNC_FILE": str(sync)},
        )
        add_user(self.filterd.config_path, "admin", "administrator", PASSWORD)
        self.dashboard = DashboardProcess(self.filterd.config_path, self.listen, tmp_path).start()
        self.client = Device(self.dashboard.url)
        assert self.client.log_in("admin", PASSWORD).status == 302

    def close(self) -> None:
        self.dashboard.stop()
        self.upstream.close()

    def said(self, page: str, key: str) -> str:
        """The words of one Health check (its sentence), tags and entities gone."""
        text = self.client.get(page).text
        part = text.split(f'id="{key}">')[1].split("</p>")[0]
        return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", part)))

    def banner(self) -> str:
        """The home page's health banner as words ("" when there is none)."""
        text = self.client.get("/").text
        if 'id="health-banner"' not in text:
            return ""
        part = text.split('id="health-banner"')[1].split("</div>")[0]
        return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", part)))

    def until(self, condition, what: str) -> None:
        assert wait_for(condition, timeout=HEARTBEAT_WAIT), what


@pytest.fixture
def box(start_filterd, tmp_path):
    made = HealthBox(start_filterd, tmp_path)
    yield made
    made.close()


def test_an_upstream_failing_is_named_on_health_with_a_banner_until_it_recovers(box: HealthBox):
    box.until(lambda: box.said("/health", "dns").startswith("Answering"), "DNS answering")
    assert rcode(ask(box.filterd.port, unique("fine-"))) == "NOERROR"
    box.until(lambda: box.said("/health", "upstreams").startswith("Working"), "upstream ok")
    assert box.banner() == "", "nothing is wrong: no banner"

    # The upstream answers, but SERVFAIL to every name.
    for _ in range(4):
        assert rcode(ask(box.filterd.port, unique("servfail-"))) == "SERVFAIL"
    box.until(lambda: "fails to look up every site" in box.said("/health", "upstreams"), "named")
    said = box.said("/health", "upstreams")
    assert said.startswith("No upstream server is working") and box.upstream.addr in said
    assert re.search(r"In the last 5 minutes \d+ of \d+ answers \(\d+%\) were failures", said)
    banner = box.banner()
    assert "No upstream server is working" in banner and "What to do:" in banner
    assert "See Health for more" in banner

    # It recovers: the next good answer clears it, and the banner goes.
    assert rcode(ask(box.filterd.port, unique("fine-"))) == "NOERROR"
    box.until(lambda: box.banner() == "", "banner gone after recovery")
    assert box.said("/health", "upstreams").startswith("Working")

    # The upstream stops altogether: named as not answering, banner, back when it returns.
    box.upstream.stop()
    for _ in range(6):
        ask(box.filterd.port, unique("gone-"), timeout=1.5)
    box.until(lambda: "is not answering" in box.said("/health", "upstreams"), "stopped named")
    assert f"{box.upstream.addr} is not answering" in box.banner()
    box.upstream.start()

    def answers_again() -> bool:
        return rcode(ask(box.filterd.port, unique("back-"), timeout=1.5)) == "NOERROR"

    assert wait_for(answers_again, timeout=10)
    box.until(lambda: box.banner() == "", "banner gone after the upstream came back")


def test_rules_refused_by_filterd_are_said_in_plain_words_naming_the_child(box: HealthBox):
    box.until(lambda: box.said("/health", "rules").startswith("In force"), "rules in force")
    broken = home_rules()
    broken["children"]["sam"]["offline"] = [{"days": ["mon"], "start": "25:00", "end": "07:00"}]
    box.rules_path.write_text(with_end_line(yaml.safe_dump(broken)))
    box.until(lambda: box.said("/health", "rules").startswith("Refused"), "refused said")
    page = html.unescape(re.sub(r"<[^>]+>", " ", box.client.get("/health").text))
    shown = re.sub(r"\s+", " ", page.split("Rules:")[1].split("Clock:")[0])
    assert "the rules from before it stay in force" in shown
    assert "In Sam's settings: Bedtime start: use a time like 21:30." in shown, shown
    assert "children.sam" not in shown and "What to do:" in shown


def test_lost_log_entries_are_counted_and_a_stopped_filterd_is_not_answering(box: HealthBox):
    box.until(lambda: box.said("/health", "log").startswith("Every lookup recorded"), "log ok")
    # Another program holds filterd.db locked for longer than the writer waits (5 s): the
    # entries of those seconds cannot be written, and filterd counts them.
    locker = sqlite3.connect(box.filterd.db_path, timeout=10, check_same_thread=False)
    locker.execute("BEGIN EXCLUSIVE")
    released = threading.Timer(7, locker.rollback)
    released.start()
    try:
        for _ in range(5):
            assert rcode(ask(box.filterd.port, unique("lost-"))) == "NOERROR"
            time.sleep(0.2)
    finally:
        released.join()
        locker.close()
    box.until(lambda: "could not be recorded" in box.said("/health", "log"), "drops shown")
    said = box.said("/health", "log")
    assert re.match(r"\d+ lookups? could not be recorded since filterd started", said), said
    assert "Filtering went on" in said
    assert box.banner() == "", "a gap in the history does not stop filtering"

    # filterd stops: Health and the home page say DNS is not answering, at once.
    box.filterd.stop()
    said = box.said("/health", "dns")
    assert said.startswith("Not answering: filterd was stopped at"), said
    assert "Not answering" in box.banner()


def test_a_filterd_that_died_without_a_word_is_not_answering_once_its_heartbeat_is_old(
    box: HealthBox,
):
    box.until(lambda: box.said("/health", "dns").startswith("Answering"), "DNS answering")
    box.filterd.proc.kill()  # no last heartbeat written
    box.filterd.proc.wait()
    reader = FilterdReader(box.filterd.db_path, Retention(7))
    beat = reader.heartbeat()
    reader.close()
    assert beat is not None and not beat["stopped"]
    from zoneinfo import ZoneInfo

    soon = dns_check(beat, Clock(ZoneInfo("UTC"), beat["updated"] + 5))
    later = dns_check(beat, Clock(ZoneInfo("UTC"), beat["updated"] + 60))
    assert soon.ok
    assert later.state == "problem" and later.said.startswith("Not answering: filterd last")
    assert "1 minute ago" in later.said


def test_a_nearly_full_disk_is_a_banner_and_both_pages_fit_a_phone(start_filterd, tmp_path):
    # Any real disk has less than 10 TB free: with that as the warning, it is nearly full.
    box = HealthBox(start_filterd, tmp_path, disk_warning_mb=10_000_000)
    try:
        box.until(lambda: box.said("/health", "dns").startswith("Answering"), "DNS answering")
        said = box.said("/health", "disk")
        assert said.startswith("Nearly full:") and " free of " in said
        assert "Storage" in box.banner() and "Nearly full" in box.banner()
        box.upstream.stop()  # and every upstream down, so the banner has two lines
        for _ in range(6):
            ask(box.filterd.port, unique("gone-"), timeout=1.5)
        box.until(lambda: "No upstream server" in box.banner(), "upstream banner")
        for path in ("/health", "/"):
            page = box.client.get(path).text
            for raw in ("servfail_5min", '"state":', "not_answering", "log_dropped", '{"'):
                assert raw not in page, f"{raw} on {path}"
        health = box.client.get("/health").text
        assert not re.search(r"\b1[6-9]\d{8}(\.\d+)?\b", health), "a Unix time on Health"
        phone_pages(box)
    finally:
        box.close()


def phone_pages(box: HealthBox) -> None:
    browser = start_chromium(phone=True)
    try:
        browser.get(box.dashboard.url + "/login")
        browser.find_element(By.ID, "name").send_keys("admin")
        browser.find_element(By.ID, "password").send_keys(PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "form.stack button[type=submit]").click()
        assert wait_for(lambda: browser.current_url.rstrip("/") == box.dashboard.url, 5)
        for name, path in (("home-health-banner", "/"), ("health-checks", "/health")):
            browser.get(box.dashboard.url + path)
            assert_fits_phone(browser, path)
            small = browser.execute_script(
                "return [...document.querySelectorAll("
                "'a, button, select, summary, input:not([type=hidden])')]"
                ".filter(e => e.offsetParent !== null && e.getBoundingClientRect().right > 0"
                " && e.getBoundingClientRect().height < 44)"
                ".map(e => e.tagName + ' ' + (e.textContent || e.name).trim().slice(0, 30))"
            )
            assert small == [], f"{path}: tap targets under 44 px: {small}"
            assert axe_violations(browser) == [], path
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            height = browser.execute_script("return document.body.scrollHeight")
            browser.execute_cdp_cmd(  # the whole page in one screenshot, still 390 px wide
                "Emulation.setDeviceMetricsOverride",
                {"width": 390, "height": height, "deviceScaleFactor": 1, "mobile": True},
            )
            assert browser.save_screenshot(str(SCREENSHOTS / f"{name}-phone-390.png"))
            browser.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True},
            )
    finally:
        browser.quit()
