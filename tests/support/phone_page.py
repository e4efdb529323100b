"""A dashboard page checked as a carer's phone shows it, the project's standard for every page:
nothing wider than 390 px, tap targets at least 44 px tall, axe-core clean, and a screenshot
saved under SCREENSHOTS for a person to look at."""

from __future__ import annotations

from pathlib import Path

from tests.support.axe import axe_violations
from tests.support.upstream_process import PROJECT_ROOT

SCREENSHOTS = PROJECT_ROOT / "test-output" / "screenshots"


def assert_fits_phone(browser, name: str) -> None:
    """Nothing on the page wider than the 390 px screen; if something is, the first few
    elements that reach past it are named."""
    width = browser.execute_script("return document.documentElement.scrollWidth")
    wide = browser.execute_script(
        "return [...document.querySelectorAll('body *')]"
        ".filter(e => e.getBoundingClientRect().right > 390)"
        ".map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + e.textContent.slice(0, 30))"
    )
    assert width <= 390, f"{name} is {width} px wide at 390: {wide[:5]}"


def check_phone_page(browser, name: str) -> Path:
    """At 390 px: nothing wider than the screen, axe-core clean, a screenshot to look at."""
    assert_fits_phone(browser, name)
    small = browser.execute_script(
        "return [...document.querySelectorAll("
        "'a, button, select, summary, input:not([type=hidden])')]"
        ".filter(e => e.offsetParent !== null && e.getBoundingClientRect().bottom > 0"
        " && e.getBoundingClientRect().right > 0 && e.getBoundingClientRect().height < 44)"
        ".map(e => e.tagName + ' ' + (e.textContent || e.name).trim().slice(0, 30))"
    )
    assert small == [], f"{name}: tap targets under 44 px tall: {small}"
    assert axe_violations(browser) == [], name
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / f"{name}-phone-390.png"
    assert browser.save_screenshot(str(target))
    return target
