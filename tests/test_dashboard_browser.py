"""The dashboard end to end in real headless Chromium, against a real filterd.

filterd and the dashboard run as separate processes on one config file (so on one rules file):
a carer's click in the browser must reach DNS answers for the child's device within 2 s.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pyotp
from dnslib import DNSRecord
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from filterd.rules.parse import parse_rules
from tests.support.browser_stack import ALEX, HARM, SAM, Stack
from tests.support.chromium import needs_chromium
from tests.support.dashboard_home import PASSWORD
from tests.support.dns_client import addresses, make_query, udp_exchange
from tests.support.filterd_process import wait_for
from tests.support.lists import FILTERED, blocked, ede_codes
from tests.support.phone_page import SCREENSHOTS, check_phone_page
from tests.support.query_log import logged

WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}

pytestmark = needs_chromium


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

    found = logged(
        stack.filterd.db_path,
        columns="id",
        where="name = ? AND client = ?",
        params=(HARM, SAM),
        timeout=5,
    )
    assert found, "filterd logged the block"
    query_id = found[0][0]

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


def test_account_pages_at_phone_width_are_accessible_and_two_factor_works(stack: Stack):
    stack.browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True},
    )
    stack.open("/setup")
    check_phone_page(stack.browser, "setup")
    stack.add_user("admin", "administrator")
    stack.add_user("carer", "carer")
    stack.log_in("admin")
    stack.open("/people/")
    assert "carer" in stack.browser.find_element(By.CSS_SELECTOR, "ul.people").text
    check_phone_page(stack.browser, "people")

    stack.open("/account/two-factor")
    assert stack.browser.find_element(By.CSS_SELECTOR, ".qr svg").size["width"] > 100
    check_phone_page(stack.browser, "two-factor")
    secret = stack.browser.find_element(By.CSS_SELECTOR, "code.secret").text.replace(" ", "")
    stack.browser.find_element(By.ID, "code").send_keys(pyotp.TOTP(secret).now())
    stack.browser.find_element(By.ID, "password").send_keys(PASSWORD)
    stack.submit("Turn it on")
    assert "Two-factor login is on" in stack.browser.page_source
    check_phone_page(stack.browser, "account")

    stack.submit("Log out admin")
    stack.open("/login")
    stack.browser.find_element(By.ID, "name").send_keys("admin")
    stack.browser.find_element(By.ID, "password").send_keys(PASSWORD)
    stack.submit("Log in")
    assert stack.browser.current_url.startswith(stack.dashboard.url + "/login/code")
    check_phone_page(stack.browser, "login-code")
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
    check_phone_page(stack.browser, "health-backup")
