"""The dashboard end to end in real headless Chromium, against a real filterd.

filterd and the dashboard run as separate processes on one config file (so on one rules file):
a carer's click in the browser must reach DNS answers for the child's device within 2 s.
"""

from __future__ import annotations

import itertools
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pyotp
import pytest
import yaml
from dnslib import DNSRecord
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from filterd.rules.guards import with_end_line
from filterd.rules.parse import parse_rules
from tests.support.axe import axe_violations
from tests.support.chromium import CHROMEDRIVER, CHROMIUM, start_chromium
from tests.support.dashboard_process import DashboardProcess
from tests.support.dns_client import make_query, udp_exchange
from tests.support.filterd_process import FilterdProcess, free_port, wait_for
from tests.support.lists import ede_codes, write_lists
from tests.support.upstream_process import PROJECT_ROOT
from tests.test_child_profiles import FILTERED, addresses, blocked

SCREENSHOTS = PROJECT_ROOT / "test-output" / "screenshots"
SAM, ALEX = "127.0.0.2", "127.0.0.3"
PASSWORD = "correct horse battery"
WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}
HARM = "harm.example"

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="needs Debian's chromium and chromium-driver (make system-deps)",
)

_names = itertools.count()


def rules() -> dict:
    return {
        "timezone": "Europe/London",
        "unknown_devices": "household",
        "children": {
            # No bedtime, so the time of day the tests run at never blocks either child.
            "sam": {"name": "Sam", "age_band": "9_12", "offline": []},
            "alex": {"name": "Alex", "age_band": "13_15", "offline": []},
        },
        "devices": [
            {"ip": SAM, "name": "Sam's tablet", "owner": "sam"},
            {"ip": ALEX, "name": "Alex's phone", "owner": "alex"},
        ],
    }


def replaced(error: Exception) -> bool:
    """Chromium's ways of saying the element found was replaced by the page in the meantime."""
    return isinstance(error, StaleElementReferenceException) or (
        "does not belong to the document" in str(error)
    )


class Stack:
    """filterd and the dashboard on one config file, and a browser pointed at the dashboard."""

    def __init__(self, filterd: FilterdProcess, dashboard: DashboardProcess, browser) -> None:
        self.filterd = filterd
        self.dashboard = dashboard
        self.browser = browser
        self.rules_path = Path(filterd.config["rules"])

    def open(self, path: str) -> None:
        self.browser.get(self.dashboard.url + path)

    def ask(self, source: str) -> DNSRecord:
        """A name never asked before (no cache in the way), from a device's address."""
        query = make_query(f"site{next(_names)}.example", "A", edns=True)
        raw = udp_exchange(self.filterd.port, query.pack(), source=source)
        assert raw is not None, f"no answer from filterd to {source}"
        return DNSRecord.parse(raw)

    def resolves(self, source: str) -> bool:
        reply = self.ask(source)
        return not blocked(reply) and bool(addresses(reply)) and "0.0.0.0" not in addresses(reply)

    def add_user(self, name: str, role: str) -> None:
        """`filterd users add NAME --role ROLE`, the password on standard input."""
        config = str(self.filterd.config_path)
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "filterd",
                "users",
                "add",
                name,
                "--role",
                role,
                "--config",
                config,
            ],
            input=PASSWORD + "\n",
            capture_output=True,
            text=True,
            cwd=PROJECT_ROOT,
            timeout=30,
        )
        assert done.returncode == 0, done.stderr

    def log_in(self, name: str) -> None:
        self.open("/login")
        self.browser.find_element(By.ID, "name").send_keys(name)
        self.browser.find_element(By.ID, "password").send_keys(PASSWORD)
        self.browser.find_element(By.CSS_SELECTOR, "form.stack button[type=submit]").click()
        assert wait_for(lambda: self.browser.current_url.rstrip("/") == self.dashboard.url, 5)

    def card(self, child: str):
        return self.browser.find_element(By.ID, f"child-{child}")

    def press(self, find) -> object:
        """Click the element `find()` returns once the page has loaded, finding it again while
        Chromium says the node found was replaced (seen under load right after a page loads)."""
        WebDriverWait(self.browser, 10).until(
            lambda b: b.execute_script("return document.readyState") == "complete"
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                button = find()
                button.click()
                return button
            except (StaleElementReferenceException, WebDriverException) as gone:
                if time.monotonic() > deadline or not replaced(gone):
                    raise
                time.sleep(0.2)

    def submit(self, label: str, scope=None) -> None:
        """Click the submit button labelled `label` and wait for the page that comes back."""
        button = self.press(
            lambda: (scope or self.browser).find_element(By.XPATH, f".//button[.='{label}']")
        )
        WebDriverWait(self.browser, 10).until(expected_conditions.staleness_of(button))
        WebDriverWait(self.browser, 10).until(
            expected_conditions.presence_of_element_located((By.TAG_NAME, "h1"))
        )

    def click(self, child: str, label: str) -> None:
        """Press a quick-action button on a child's card and wait for the home page again."""
        button = self.press(
            lambda: self.card(child).find_element(
                By.XPATH, f".//button[@name='action'][.='{label}']"
            )
        )
        # The old page goes, then the home page comes back with the outcome.
        WebDriverWait(self.browser, 10).until(expected_conditions.staleness_of(button))
        WebDriverWait(self.browser, 10).until(
            expected_conditions.presence_of_element_located((By.ID, f"child-{child}"))
        )


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    driver = start_chromium()
    yield driver
    driver.quit()


@pytest.fixture
def stack(start_filterd, browser, tmp_path: Path) -> Iterator[Stack]:
    rules_path = tmp_path / "rules.yaml"
    rules_path.write_text(with_end_line(yaml.safe_dump(rules())))
    shipped = write_lists(
        tmp_path / "shipped",
        social=["social.example"],
        adult=["adult.example"],
        self_harm=[HARM],  # high risk; Sam's 9_12 preset blocks it
    )
    listen = f"127.0.0.1:{free_port()}"
    filterd = start_filterd(
        rules=str(rules_path),
        dashboard={
            "listen": listen,
            "http_listen": f"127.0.0.1:{free_port()}",
            "database": str(tmp_path / "dashboard.db"),
            "allowed_hosts": ["127.0.0.1", "localhost"],
        },
        lists_update={
            "directory": str(tmp_path / "lists"),
            "shipped": str(shipped),
            "refresh_hours": 0,
        },
    )
    browser.delete_all_cookies()  # cookies are per host, not per port: start signed out
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    dashboard = start_dashboard(filterd, listen, tmp_path)
    try:
        yield Stack(filterd, dashboard, browser)
    finally:
        dashboard.stop()


def start_dashboard(filterd: FilterdProcess, listen: str, workdir: Path) -> DashboardProcess:
    """The dashboard on filterd's config. A port picked free can be taken by someone's
    outgoing connection before the dashboard binds it: then it moves to another port."""
    for _ in range(3):
        try:
            return DashboardProcess(filterd.config_path, listen, workdir).start()
        except RuntimeError as err:
            if "Address already in use" not in str(err):
                raise
        listen = f"127.0.0.1:{free_port()}"
        filterd.config["dashboard"]["listen"] = listen
        filterd.write_config()  # only the dashboard reads this key; filterd keeps running
    return DashboardProcess(filterd.config_path, listen, workdir).start()


def test_first_run_then_pause_and_resume_reach_dns_within_two_seconds(stack: Stack):
    stack.open("/")
    assert stack.browser.current_url.endswith("/setup"), "no account yet: first-run setup"
    form = stack.browser
    code = (Path(stack.filterd.config["dashboard"]["database"]).parent / "setup-code").read_text()
    form.find_element(By.ID, "code").send_keys(code.strip())
    form.find_element(By.ID, "name").send_keys("carer")
    form.find_element(By.ID, "password").send_keys(PASSWORD)
    form.find_element(By.ID, "confirm").send_keys(PASSWORD)
    form.find_element(By.CSS_SELECTOR, "form.stack button[type=submit]").click()

    assert wait_for(lambda: stack.browser.current_url.rstrip("/") == stack.dashboard.url, 5)
    assert "Sam" in stack.card("sam").text and "Alex" in stack.card("alex").text
    assert stack.resolves(SAM) and stack.resolves(ALEX)

    stack.click("sam", "Pause")
    assert "Paused" in stack.card("sam").text
    assert wait_for(lambda: blocked(stack.ask(SAM)), timeout=2), "filterd applied the pause"
    assert stack.resolves(ALEX), "Alex is not paused"

    stack.click("sam", "Resume")
    assert "Paused" not in stack.card("sam").text
    assert wait_for(lambda: stack.resolves(SAM), timeout=2), "filterd applied the resume"


def test_the_plain_http_address_lands_on_https_with_secure_host_only_cookies(stack: Stack):
    plain = stack.filterd.config["dashboard"]["http_listen"]
    stack.browser.get(f"http://{plain}/")
    assert wait_for(lambda: stack.browser.current_url == stack.dashboard.url + "/setup", 5)
    assert stack.dashboard.url.startswith("https://")

    stack.add_user("admin", "administrator")
    stack.log_in("admin")
    session = next(c for c in stack.browser.get_cookies() if "filterd_session" in c["name"])
    assert session["name"] == "__Host-filterd_session"
    assert session["secure"] and session["httpOnly"] and session["sameSite"] == "Strict"
    assert "filterd_session" not in stack.browser.execute_script("return document.cookie")


def test_a_viewer_sees_no_controls_and_a_forged_change_is_refused(stack: Stack):
    stack.add_user("val", "viewer")
    stack.log_in("val")
    assert "Sam" in stack.card("sam").text
    assert not stack.browser.find_elements(By.CSS_SELECTOR, "button[name=action]")
    before = stack.rules_path.read_bytes()

    status, text = stack.browser.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const body = new FormData();
        body.append('csrf', document.querySelector('input[name=csrf]').value);
        body.append('action', 'pause');
        fetch('/children/sam/quick', {method: 'POST', body: body, redirect: 'manual'})
          .then(r => r.text().then(text => done([r.status, text])), e => done([0, String(e)]));
        """
    )

    assert status == 403
    assert "Your account cannot do this" in text, "refused for the role, not the token"
    assert stack.rules_path.read_bytes() == before
    assert stack.resolves(SAM)


def test_screenshots_of_the_main_pages_at_phone_and_desktop_widths(stack: Stack):
    stack.add_user("admin", "administrator")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pages = {"login": "/login", "home": "/", "health": "/health"}
    saved: list[Path] = []
    for width_name, (width, height) in WIDTHS.items():
        stack.browser.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
        )
        stack.browser.delete_all_cookies()
        for page, path in pages.items():
            if page != "login" and not stack.browser.get_cookies():
                stack.log_in("admin")
            stack.open(path)
            assert stack.browser.current_url == stack.dashboard.url + path
            target = SCREENSHOTS / f"{page}-{width_name}-{width}.png"
            target.unlink(missing_ok=True)
            assert stack.browser.save_screenshot(str(target))
            saved.append(target)

    for target in saved:
        data = target.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n"), target
        assert len(data) > 5000, f"{target} is suspiciously small"


def test_a_bedtime_changed_in_the_browser_reaches_dns_within_two_seconds(stack: Stack):
    stack.add_user("admin", "administrator")
    stack.log_in("admin")
    assert stack.resolves(SAM) and stack.resolves(ALEX)

    # A bedtime that covers now, whatever the time (the wrap past midnight is HH:MM's job).
    now = datetime.now(ZoneInfo("Europe/London"))
    start = (now - timedelta(hours=1)).strftime("%H:%M")
    end = (now + timedelta(hours=2)).strftime("%H:%M")
    stack.open("/children/sam/limits")
    for key in ("school", "weekend"):  # both, so every day of the week is covered
        for field, value in ((f"{key}_start", start), (f"{key}_end", end)):
            box = stack.browser.find_element(By.NAME, field)
            stack.browser.execute_script("arguments[0].value = arguments[1]", box, value)
    stack.submit("Save")

    assert stack.browser.current_url == stack.dashboard.url + "/children/sam"
    assert "Saved Sam&#x27;s bedtime and limits" in stack.browser.page_source or (
        "Saved Sam's bedtime and limits" in stack.browser.page_source
    )
    assert not stack.browser.find_elements(By.ID, "problems")
    assert wait_for(lambda: blocked(stack.ask(SAM)), timeout=2), "filterd applied the bedtime"
    reply = stack.ask(SAM)
    assert addresses(reply) == ["0.0.0.0"] and FILTERED in ede_codes(reply)
    assert stack.resolves(ALEX), "Alex has no bedtime"

    saved = parse_rules(stack.rules_path.read_text())
    windows = saved.children["sam"].offline
    assert len(windows) == 2, windows
    to_minutes = [int(t[:2]) * 60 + int(t[3:]) for t in (start, end)]
    assert all([w.start, w.end] == to_minutes for w in windows)


def test_a_safeguarding_lead_reviews_a_high_risk_block_in_the_browser(stack: Stack):
    reply = DNSRecord.parse(
        udp_exchange(stack.filterd.port, make_query(HARM, "A", edns=True).pack(), source=SAM)
    )
    assert blocked(reply), "Sam's preset blocks self_harm"

    def logged_id() -> int | None:
        if not stack.filterd.db_path.exists():
            return None
        with sqlite3.connect(stack.filterd.db_path) as db:
            found = db.execute(
                "SELECT id FROM queries WHERE name = ? AND client = ?", (HARM, SAM)
            ).fetchone()
        return found[0] if found else None

    assert wait_for(lambda: logged_id() is not None, timeout=5), "filterd logged the block"
    query_id = logged_id()

    stack.add_user("lee", "safeguarding_lead")
    stack.log_in("lee")
    stack.open("/blocked/")
    row = stack.browser.find_element(By.ID, f"q{query_id}")
    assert "high-risk" in row.get_attribute("class").split()
    assert HARM in row.text and "High risk: self-harm" in row.text
    assert "Not reviewed yet" in row.text
    assert "Sam" in row.text

    row.find_element(By.TAG_NAME, "summary").click()
    Select(row.find_element(By.ID, f"outcome-{query_id}")).select_by_value("discussed_with_child")
    note = "Talked with Sam after school; no further concern."
    row.find_element(By.ID, f"note-{query_id}").send_keys(note)
    stack.submit("Mark reviewed", scope=row)

    assert "Marked 1 blocked request reviewed" in stack.browser.page_source
    row = stack.browser.find_element(By.ID, f"q{query_id}")
    assert "unreviewed" not in row.get_attribute("class").split()
    assert "Discussed with the child" in row.text and note in row.text
    assert "Reviewed by lee" in row.text
    assert "not reviewed yet" not in row.text

    stack.open("/audit/")
    trail = [
        [
            item.find_element(By.CSS_SELECTOR, part).text
            for part in (".who", ".action", ".target", ".detail")
        ]
        for item in stack.browser.find_elements(By.CSS_SELECTOR, "ol.audit li")
        if item.find_elements(By.CSS_SELECTOR, ".detail")
    ]
    assert any(
        who == "lee"
        and what == "reviewed blocked requests"
        and str(query_id) in target
        and note in detail
        for who, what, target, detail in trail
    ), trail


def check_phone_page(stack: Stack, name: str) -> Path:
    """At 390 px: nothing wider than the screen, axe-core clean, a screenshot to look at."""
    width = stack.browser.execute_script("return document.documentElement.scrollWidth")
    wide = stack.browser.execute_script(
        "return [...document.querySelectorAll('body *')]"
        ".filter(e => e.getBoundingClientRect().right > 390)"
        ".map(e => e.tagName + '.' + e.className + ' ' + e.textContent.slice(0, 30))"
    )
    assert width <= 390, f"{name} is {width} px wide at 390: {wide[:5]}"
    small = stack.browser.execute_script(
        "return [...document.querySelectorAll("
        "'a, button, select, summary, input:not([type=hidden])')]"
        ".filter(e => e.offsetParent !== null && e.getBoundingClientRect().bottom > 0"
        " && e.getBoundingClientRect().right > 0 && e.getBoundingClientRect().height < 44)"
        ".map(e => e.tagName + ' ' + (e.textContent || e.name).trim().slice(0, 30))"
    )
    assert small == [], f"{name}: tap targets under 44 px tall: {small}"
    assert axe_violations(stack.browser) == [], name
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}-phone-390.png"
    assert stack.browser.save_screenshot(str(target))
    return target


def test_account_pages_at_phone_width_are_accessible_and_two_factor_works(stack: Stack):
    stack.browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True},
    )
    stack.open("/setup")
    check_phone_page(stack, "setup")
    stack.add_user("admin", "administrator")
    stack.add_user("carer", "carer")
    stack.log_in("admin")
    stack.open("/people/")
    assert "carer" in stack.browser.find_element(By.CSS_SELECTOR, "ul.people").text
    check_phone_page(stack, "people")

    stack.open("/account/two-factor")
    assert stack.browser.find_element(By.CSS_SELECTOR, ".qr svg").size["width"] > 100
    check_phone_page(stack, "two-factor")
    secret = stack.browser.find_element(By.CSS_SELECTOR, "code.secret").text.replace(" ", "")
    stack.browser.find_element(By.ID, "code").send_keys(pyotp.TOTP(secret).now())
    stack.browser.find_element(By.ID, "password").send_keys(PASSWORD)
    stack.submit("Turn it on")
    assert "Two-factor login is on" in stack.browser.page_source
    check_phone_page(stack, "account")

    stack.submit("Log out admin")
    stack.open("/login")
    stack.browser.find_element(By.ID, "name").send_keys("admin")
    stack.browser.find_element(By.ID, "password").send_keys(PASSWORD)
    stack.submit("Log in")
    assert stack.browser.current_url.startswith(stack.dashboard.url + "/login/code")
    check_phone_page(stack, "login-code")
    stack.browser.find_element(By.ID, "code").send_keys(
        pyotp.TOTP(secret).at(datetime.now().timestamp() + 30)
    )
    stack.submit("Log in")
    assert stack.browser.current_url.rstrip("/") == stack.dashboard.url


def test_health_backup_button_at_phone_width_for_an_administrator_only(stack: Stack):
    stack.browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True},
    )
    stack.add_user("admin", "administrator")
    stack.add_user("carer", "carer")
    stack.log_in("carer")
    stack.open("/health")
    assert not stack.browser.find_elements(By.ID, "backup")
    stack.submit("Log out carer")
    stack.log_in("admin")
    stack.open("/health")
    button = stack.browser.find_element(By.CSS_SELECTOR, "#backup button")
    assert button.text == "Download a backup" and button.size["height"] >= 44
    stack.browser.execute_script("arguments[0].scrollIntoView()", button)
    check_phone_page(stack, "health-backup")
