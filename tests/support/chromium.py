"""Debian's headless Chromium for the browser tests, started one way: the same flags, page-load
timeout and (for a phone) 390 px viewport everywhere, plus what a test adds of its own."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PHONE = (390, 844)
NODE_RETRY_SECONDS = 5.0

# On a module (`pytestmark = needs_chromium`): its tests are skipped, with the way to install
# them, where Debian's browser is missing; `make system-deps` installs both.
needs_chromium = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="needs Debian's chromium and chromium-driver (make system-deps)",
)


class SteadyChrome(webdriver.Chrome):
    """Chromium whose driver asks again when chromedriver answers "Node with given id does not
    belong to the document" for an element it has just found: its own cached view of a page
    that is still settling (seen under load, right after a page load or a form's answer); the
    same command a moment later works. Only that answer is retried: a really stale element
    still fails as it should, and a click that got that answer never reached the page."""

    def execute(self, driver_command: str, params: dict | None = None) -> dict:
        deadline = time.monotonic() + NODE_RETRY_SECONDS
        while True:
            try:
                return super().execute(driver_command, params)
            except WebDriverException as error:
                if "does not belong to the document" not in str(error):
                    raise
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)


def start_chromium(
    *extra: str, phone: bool = False, service: Service | None = None
) -> webdriver.Chrome:
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
    service = service or Service(str(CHROMEDRIVER))
    driver = SteadyChrome(options=options, service=service)
    driver.set_page_load_timeout(15)
    if phone:
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 1, "mobile": True},
        )
    return driver


@contextmanager
def chromium_in_namespace(
    namespace: str, *extra: str, phone: bool = False
) -> Iterator[webdriver.Chrome]:
    """The same Chromium on a device of a test LAN: chromedriver, and so the browser, run under
    `ip netns exec NAMESPACE`, so the browser resolves names with that namespace's resolver
    (/etc/netns/NAMESPACE/resolv.conf) and reaches only that namespace's network; the test
    drives it through a relay from this namespace's loopback to chromedriver's port there."""
    from tests.support.filterd_process import free_port
    from tests.support.netns import PortIntoNamespace

    port = free_port()
    with tempfile.TemporaryDirectory(prefix="chromium-netns-") as scratch:
        wrapper = Path(scratch) / "chromedriver"
        wrapper.write_text(f'#!/bin/sh\nexec ip netns exec {namespace} {CHROMEDRIVER} "$@"\n')
        wrapper.chmod(0o755)
        relay = PortIntoNamespace(namespace, port)
        try:
            driver = start_chromium(*extra, phone=phone, service=Service(str(wrapper), port=port))
            try:
                yield driver
            finally:
                driver.quit()
        finally:
            relay.close()
