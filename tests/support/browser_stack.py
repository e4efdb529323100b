"""filterd and the dashboard as two processes on one config file, driven from real headless
Chromium: the browser tests' `stack` (tests/conftest.py). A carer's click in the browser must
reach DNS answers for a child's device, so the stack both presses buttons and asks filterd."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml
from dnslib import DNSRecord
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from filterd.rules.guards import with_end_line
from tests.support.dashboard_home import PASSWORD, add_user
from tests.support.dashboard_process import DashboardProcess
from tests.support.dns_client import addresses, make_query, udp_exchange
from tests.support.filterd_process import FilterdProcess, free_port, wait_for
from tests.support.lists import blocked, write_lists

SAM, ALEX = "127.0.0.2", "127.0.0.3"  # the children's devices: filterd sees these sources
HARM = "harm.example"  # on the shipped self-harm list: high risk, blocked by Sam's 9_12 preset

_names = itertools.count()


def stack_rules() -> dict:
    """Two children with a device each and no bedtime, so the time of day a test runs at never
    blocks either child."""
    return {
        "timezone": "Europe/London",
        "unknown_devices": "household",
        "children": {
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
        add_user(self.filterd.config_path, name, role)

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


@contextmanager
def open_stack(
    start_filterd: Callable[..., FilterdProcess], browser, workdir: Path
) -> Iterator[Stack]:
    """filterd on `stack_rules()` with shipped lists (social, adult, self-harm), the dashboard
    on its config, and `browser` signed out at its own window size (cookies are per host, not
    per port: a browser shared by a module's tests would otherwise keep the last test's
    session)."""
    rules_path = workdir / "rules.yaml"
    rules_path.write_text(with_end_line(yaml.safe_dump(stack_rules())))
    shipped = write_lists(
        workdir / "shipped",
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
            "database": str(workdir / "dashboard.db"),
            "allowed_hosts": ["127.0.0.1", "localhost"],
        },
        lists_update={
            "directory": str(workdir / "lists"),
            "shipped": str(shipped),
            "refresh_hours": 0,
        },
    )
    browser.delete_all_cookies()
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    dashboard = start_dashboard(filterd, listen, workdir)
    try:
        yield Stack(filterd, dashboard, browser)
    finally:
        dashboard.stop()
