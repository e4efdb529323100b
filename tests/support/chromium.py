"""Debian's headless Chromium for the browser tests, started one way: the same flags, page-load
timeout and (for a phone) 390 px viewport everywhere, plus what a test adds of its own."""

from __future__ import annotations

from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PHONE = (390, 844)


def start_chromium(*extra: str, phone: bool = False) -> webdriver.Chrome:
    """Headless Chromium that trusts the box's own certificate; `phone` sets a 390 px viewport."""
    options = Options()
    options.binary_location = str(CHROMIUM)
    # The dashboard serves HTTPS with the certificate each test box makes for itself.
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--ignore-certificate-errors",
        *extra,
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(15)
    if phone:
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 1, "mobile": True},
        )
    return driver
