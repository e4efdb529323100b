"""The Apps screen in real headless Chromium at 390 px, against a real filterd: a tap on Block
reaches DNS within 2 s; the pages fit the screen, have 44 px tap targets and are axe-core clean.
"""

from __future__ import annotations

from pathlib import Path

from axe_selenium_python import Axe
from dnslib import DNSRecord
from selenium.webdriver.common.by import By

from tests.support.browser_stack import ALEX, Stack
from tests.support.chromium import PHONE, needs_chromium
from tests.support.dns_client import addresses, make_query, udp_exchange
from tests.support.filterd_process import wait_for
from tests.support.lists import blocked
from tests.support.phone_page import SCREENSHOTS

pytestmark = needs_chromium  # the fixtures (tests/conftest.py): Chromium, filterd, dashboard
TAP_TARGETS = "main a, main button, main input, main select, main summary"
# Every control smaller than 44 px, or any part of the page wider than the screen.
MEASURE = """
const small = [...document.querySelectorAll(arguments[0])]
  .filter(e => e.getClientRects().length && !e.closest('.visually-hidden'))
  .filter(e => { const r = e.getBoundingClientRect(); return r.height < 44 || r.width < 44; })
  .map(e => e.outerHTML.slice(0, 80));
return {small, wide: document.documentElement.scrollWidth};
"""


def ask(stack: Stack, source: str, name: str) -> DNSRecord:
    raw = udp_exchange(stack.filterd.port, make_query(name, "A", edns=True).pack(), source=source)
    assert raw is not None, f"no answer to {name}"
    return DNSRecord.parse(raw)


def phone(stack: Stack) -> None:
    width, height = PHONE
    stack.browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True},
    )


def check_page(stack: Stack, name: str) -> Path:
    """Fits 390 px, 44 px targets, no axe-core violations; a screenshot to look at."""
    found = stack.browser.execute_script(MEASURE, TAP_TARGETS)
    assert found["wide"] <= PHONE[0], f"{name} is {found['wide']} px wide"
    assert found["small"] == [], f"{name}: tap targets under 44 px: {found['small']}"
    axe = Axe(stack.browser)
    axe.inject()
    result = axe.run()
    assert result["passes"], "axe-core ran its checks"
    violations = result["violations"]
    assert violations == [], [(v["id"], v["nodes"][0]["html"]) for v in violations]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}-phone-{PHONE[0]}.png"
    stack.browser.execute_script("window.scrollTo(0, 0)")  # axe-core scrolls as it checks
    assert stack.browser.save_screenshot(str(target))
    return target


def test_a_tap_on_block_reaches_dns_and_the_apps_pages_suit_a_phone(stack: Stack):
    stack.add_user("admin", "administrator")
    phone(stack)
    stack.log_in("admin")
    assert not blocked(ask(stack, ALEX, "api16-normal-c-useast1a.tiktokv.com"))

    stack.open("/children/alex/apps")
    check_page(stack, "apps-grid")
    tiktok = stack.browser.find_element(By.ID, "app-tiktok")
    assert "Allowed: social is allowed" in tiktok.text  # 13_15 allows social
    stack.submit("Block", tiktok)
    assert stack.browser.current_url.endswith("/children/alex/apps#app-tiktok")
    assert "TikTok: Blocked." in stack.browser.page_source
    assert wait_for(
        lambda: blocked(ask(stack, ALEX, "api16-normal-c-useast1a.tiktokv.com")), timeout=2
    ), "filterd applied the block within 2 s"
    assert blocked(ask(stack, ALEX, "v16m.tiktokcdn.com"))
    instagram = ask(stack, ALEX, "i.instagram.com")
    assert addresses(instagram) and not blocked(instagram)

    stack.open("/children/alex/apps?q=rob")
    check_page(stack, "apps-search")
    stack.open("/children/alex/apps/roblox")
    box = stack.browser.find_element(By.ID, "start")
    box.clear()
    box.send_keys("25:00")
    stack.submit("Allow at these hours")
    assert (
        "Apps and set hours: a time must be like 16:00"
        in stack.browser.find_element(By.ID, "problems").text
    )
    check_page(stack, "app-refused")
    stack.open("/")
    check_page(stack, "home-with-apps")
