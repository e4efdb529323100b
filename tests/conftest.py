"""Fixtures: a real scripted upstream process and real filterd processes (per test, per module),
the dashboard (in-process app, signed-in clients, a first-run box) and headless Chromium."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver

from tests.support.alerts_home import AlertsHome
from tests.support.block_page_box import BlockPageBox, running_block_page_box
from tests.support.browser_stack import Stack, open_stack
from tests.support.chromium import start_chromium
from tests.support.dashboard_home import Box
from tests.support.filterd_process import FilterdProcess
from tests.support.list_server import ListFiles
from tests.support.loopback_home import LoopbackHome, start_loopback_home
from tests.support.real_root_box import RealRootBox
from tests.support.upstream_process import ScriptedUpstream


@pytest.fixture(scope="session")
def upstream() -> Iterator[ScriptedUpstream]:
    """One scripted upstream for the session; tests use unique names to avoid sharing."""
    with ScriptedUpstream() as up:
        yield up


@pytest.fixture(scope="module")
def shared(
    tmp_path_factory: pytest.TempPathFactory, upstream: ScriptedUpstream
) -> Iterator[FilterdProcess]:
    """One filterd with the test config for a whole module (saves a start per test)."""
    process = FilterdProcess(tmp_path_factory.mktemp("shared-filterd"), [upstream.addr])
    process.start()
    yield process
    process.stop()


@pytest.fixture
def start_filterd(
    tmp_path: Path, upstream: ScriptedUpstream
) -> Iterator[Callable[..., FilterdProcess]]:
    """Start filterd with config overrides; every one started is stopped after the test."""
    started: list[FilterdProcess] = []

    def start(
        upstreams: list[str] | None = None, env: dict[str, str] | None = None, **overrides: Any
    ) -> FilterdProcess:
        workdir = tmp_path / f"filterd{len(started)}"
        workdir.mkdir()
        process = FilterdProcess(workdir, upstreams or [upstream.addr], **overrides)
        started.append(process)
        return process.start(env=env)

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def filterd(start_filterd: Callable[..., FilterdProcess]) -> FilterdProcess:
    """filterd with the test config, forwarding to the session's scripted upstream."""
    return start_filterd()


@pytest.fixture
def loopback_home(start_filterd: Callable[..., FilterdProcess], tmp_path: Path) -> LoopbackHome:
    """filterd for Sam and Alex on their own 127.x addresses, its wall clock movable
    (tests/support/loopback_home.py)."""
    return start_loopback_home(start_filterd, tmp_path)


@pytest.fixture
def list_files() -> Iterator[ListFiles]:
    """A loopback HTTP server of list files the test fills, changes or breaks."""
    server = ListFiles()
    yield server
    server.close()


@pytest.fixture
def real_root_box(tmp_path: Path) -> Iterator[RealRootBox]:
    """A box install.sh installs as root, in private namespaces (tests/support/real_root_box.py);
    tests using it are marked `needs_real_root`."""
    made = RealRootBox(tmp_path)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def make_alerts_home(
    tmp_path: Path, start_filterd: Callable[..., FilterdProcess]
) -> Iterator[Callable[..., AlertsHome]]:
    """make_alerts_home(when, smtp_running=True, **sam): filterd, the dashboard, an SMTP server
    and a webhook receiver on a clock set to `when` (tests/support/alerts_home.py); every home
    made is stopped after the test."""
    made: list[AlertsHome] = []

    def make(when: str, smtp_running: bool = True, **sam: object) -> AlertsHome:
        home = AlertsHome(tmp_path, start_filterd, when, smtp_running, **sam)
        made.append(home)
        return home

    yield make
    for home in made:
        home.stop()


@pytest.fixture
def block_page_box(
    start_filterd: Callable[..., FilterdProcess], tmp_path: Path
) -> Iterator[BlockPageBox]:
    """filterd and the dashboard with its plain-HTTP listener, serving the block page and
    /me to Sam's device at 127.0.0.1 (tests/support/block_page_box.py)."""
    with running_block_page_box(start_filterd, tmp_path) as box:
        yield box


@pytest.fixture
def dashboard_app(tmp_path: Path):
    """The dashboard (Flask app) on real files in tmp_path: rules.yaml, filterd.db (not made
    until a test writes it), dashboard.db (tests/support/dashboard_app.make_app)."""
    from tests.support.dashboard_app import make_app

    return make_app(tmp_path)


@pytest.fixture
def signed_in(dashboard_app) -> Callable[[str, str], Any]:
    """signed_in(name, role): a test client of `dashboard_app` signed in as a new account."""
    from tests.support.dashboard_app import logged_in

    return lambda name, role: logged_in(dashboard_app, name, role)


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Box]:
    """A new box at first run: the dashboard process on its own files in tmp_path, with no
    account yet, only its one-time set-up code (tests/support/dashboard_home.Box)."""
    made = Box(tmp_path).start()
    try:
        yield made
    finally:
        made.process.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    """Headless Chromium (tests/support/chromium.py), one for a module's tests: starting it
    takes seconds. Through `stack` each test starts signed out; a test using it alone clears
    its cookies itself."""
    driver = start_chromium()
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def phone_browser() -> Iterator[webdriver.Chrome]:
    """Headless Chromium with a phone's 390 px screen, one for a module's tests."""
    driver = start_chromium(phone=True)
    yield driver
    driver.quit()


@pytest.fixture
def stack(
    start_filterd: Callable[..., FilterdProcess], browser: webdriver.Chrome, tmp_path: Path
) -> Iterator[Stack]:
    """filterd and the dashboard on one config file in tmp_path, and the module's `browser`,
    signed out, pointed at the dashboard (tests/support/browser_stack.Stack)."""
    with open_stack(start_filterd, browser, tmp_path) as made:
        yield made
