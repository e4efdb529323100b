"""The real dashboard process on its own files, as tests meet it over HTTP(S) on loopback:
`Box`, a new box at first run (no account yet, only the one-time set-up code), and `Home`, a
home already set up (two children, a list source with secrets in its address, accounts added
with `filterd users add`). Tests reach them as "devices" (tests/support/web_client.Device) on
their own 127.x addresses, or from Chromium (`log_in`). Every account's password is PASSWORD."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Self

import yaml
from selenium.webdriver.common.by import By

from filterd.rules.guards import with_end_line
from tests.support.dashboard_process import DashboardProcess
from tests.support.filterd_db import query_row, write_queries
from tests.support.filterd_process import free_port, wait_for
from tests.support.upstream_process import PROJECT_ROOT
from tests.support.web_client import Device

PASSWORD = "correct horse battery"
SECRET_PASSWORD, SECRET_KEY = "hunter2secretpw", "KEY0123456789SECRETabcdef"
# A list source whose address carries a password and a key: no page may show either.
LIST_SOURCE = f"https://alice:{SECRET_PASSWORD}@lists.example/adult.txt?api_key={SECRET_KEY}"


def run_filterd_command(config_path: Path, *args: str, stdin: str = "", timeout: float = 120):
    """`python -m filterd ARGS --config FILE`, as a person runs it on the box."""
    return subprocess.run(
        [sys.executable, "-m", "filterd", *args, "--config", str(config_path)],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=timeout,
    )


def add_user(config_path: Path, name: str, role: str, password: str = PASSWORD) -> None:
    """`filterd users add NAME --role ROLE`, the password typed on standard input."""
    done = run_filterd_command(
        config_path, "users", "add", name, "--role", role, stdin=password + "\n", timeout=60
    )
    assert done.returncode == 0, done.stderr


class Box:
    """A dashboard process on its own config and files, and the commands run on the box."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.config_path = tmp_path / "filterd.yaml"
        self.database = tmp_path / "dashboard.db"
        (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"timezone": "Europe/London"}))
        self.listen = f"127.0.0.1:{free_port()}"
        self.write_config()
        self.process = DashboardProcess(self.config_path, self.listen, tmp_path)

    def write_config(self) -> None:
        config = {
            "listen": ["127.0.0.1:1053"],
            "upstreams": ["127.0.0.1:1"],
            "database": str(self.tmp_path / "filterd.db"),
            "rules": str(self.tmp_path / "rules.yaml"),
            "dashboard": {
                "listen": self.listen,
                "database": str(self.database),
                "allowed_hosts": ["127.0.0.1", "localhost"],
            },
        }
        self.config_path.write_text(yaml.safe_dump(config))

    def pick_ports(self) -> None:
        """Other free ports, after one picked free was taken before the dashboard bound it."""
        self.listen = f"127.0.0.1:{free_port()}"

    def start(self) -> Self:
        """Start the dashboard, on other ports if someone's connection took the ones picked."""
        for _ in range(3):
            try:
                self.process.start()
                return self
            except RuntimeError as err:
                if "Address already in use" not in str(err):
                    raise
                self.pick_ports()
                self.write_config()
                self.process = DashboardProcess(self.config_path, self.listen, self.tmp_path)
        raise RuntimeError("no free ports")

    def device(self, source: str) -> Device:
        return Device(self.process.url, source=source)

    def command(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return run_filterd_command(self.config_path, *args, stdin=stdin, timeout=60)

    def add_user(self, name: str, role: str, password: str = PASSWORD) -> None:
        add_user(self.config_path, name, role, password)

    def users(self) -> list[str]:
        with sqlite3.connect(self.database) as db:
            return [row[0] for row in db.execute("SELECT name FROM users ORDER BY id")]

    def peak_memory_mb(self) -> float:
        """The dashboard process's peak resident memory so far (VmHWM), in MB."""
        assert self.process.proc is not None
        status = Path(f"/proc/{self.process.proc.pid}/status").read_text()
        match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
        assert match, status
        return int(match[1]) / 1024


def baseline_rules() -> dict:
    return {
        "timezone": "Europe/London",
        "unknown_devices": "strict",
        "children": {
            "sam": {"name": "Sam", "age_band": "9_12", "offline": []},
            "alex": {"name": "Alex", "age_band": "13_15", "offline": []},
        },
        "devices": [{"ip": "192.168.1.20", "name": "Sam's tablet", "owner": "sam"}],
    }


def config_for(tmp: Path, listen: str, **overrides) -> dict:
    config = {
        "listen": [f"127.0.0.1:{free_port()}"],
        "upstreams": ["127.0.0.1:1"],
        "database": str(tmp / "filterd.db"),
        "rules": str(tmp / "rules.yaml"),
        "lists": {"adult": [LIST_SOURCE]},
        "lists_update": {"directory": str(tmp / "lists")},
        "dashboard": {
            "listen": listen,
            "database": str(tmp / "dashboard.db"),
            "allowed_hosts": ["127.0.0.1", "localhost"],
        },
    }
    config.update(overrides)
    return config


class Home:
    """The dashboard process on its own files, its accounts, and the commands run on the box."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.rules_path = tmp / "rules.yaml"
        self.config_path = tmp / "filterd.yaml"
        self.database = tmp / "dashboard.db"
        self.listen = f"127.0.0.1:{free_port()}"
        self.config = config_for(tmp, self.listen)
        self.config_path.write_text(yaml.safe_dump(self.config))
        self.reset_rules()
        self.process = DashboardProcess(self.config_path, self.listen, tmp)
        self._sources = iter(range(10, 250))

    def reset_rules(self, rules: dict | None = None) -> None:
        self.rules_path.write_text(with_end_line(yaml.safe_dump(rules or baseline_rules())))

    def command(self, *args: str, stdin: str = ""):
        return run_filterd_command(self.config_path, *args, stdin=stdin)

    def add_user(self, name: str, role: str) -> None:
        add_user(self.config_path, name, role)

    def device(self) -> Device:
        """A new device on its own loopback address."""
        return Device(self.process.url, source=f"127.0.0.{next(self._sources)}")

    def signed_in(self, name: str) -> Device:
        device = self.device()
        reply = device.log_in(name, PASSWORD)
        assert reply.status == 302, reply.text
        return device

    def audit_rows(self, action: str | None = None) -> list[sqlite3.Row]:
        with sqlite3.connect(self.database) as db:
            db.row_factory = sqlite3.Row
            rows = db.execute("SELECT * FROM audit ORDER BY id").fetchall()
        return [r for r in rows if action is None or r["action"] == action]


def write_blocked(home: Home, names: list[str], categories: str = "self_harm") -> list[int]:
    """Blocked requests in the home's filterd.db, written with filterd's own query-log writer."""
    rows = [query_row(time.time() - 60, name, categories=categories) for name in names]
    return write_queries(home.tmp / "filterd.db", rows)


def log_in(
    browser, home: Home, name: str = "admin", *, switch_user: bool = False, timeout: float = 5
) -> None:
    """Sign in from Chromium on the login page, as a person does. `switch_user`: forget the
    browser's cookies first, so one browser can sign in as one person after another."""
    if switch_user:
        browser.delete_all_cookies()
    browser.get(home.process.url + "/login")
    browser.find_element(By.ID, "name").send_keys(name)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    assert wait_for(lambda: not browser.current_url.endswith("/login"), timeout)
