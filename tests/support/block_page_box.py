"""A box serving the block page, for the block-page and child's-own-page tests: filterd and the
dashboard, with its plain-HTTP listener (where a blocked site's page and /me are served), on one
config file. Sam (9-12) has the block page as his blocked answer and asks from 127.0.0.1,
the address Chromium connects from; Alex (13-15) asks from 127.0.0.3. The `block_page_box`
fixture in tests/conftest.py starts one per test."""

from __future__ import annotations

import http.client
import sqlite3
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml
from dnslib import DNSRecord

from filterd.rules.guards import with_end_line
from tests.support.browser_stack import start_dashboard
from tests.support.dashboard_process import DashboardProcess
from tests.support.dns_client import addresses, make_query, udp_exchange
from tests.support.filterd_process import FilterdProcess, free_port, wait_for
from tests.support.lists import write_lists

SAM = "127.0.0.1"  # Chromium's source address: Sam's tablet
ALEX = "127.0.0.3"


def block_page_rules(sam_device: str = SAM, **sam: object) -> dict:
    """Sam with the block page as his blocked answer and no bedtime, his device at
    `sam_device`, and Alex; `sam` adds to or replaces Sam's settings."""
    return {
        "timezone": "Europe/London",
        "unknown_devices": "household",
        "children": {
            "sam": {
                "name": "Sam",
                "age_band": "9_12",
                "offline": [],
                "blocked_answer": "block_page",
                **sam,
            },
            "alex": {"name": "Alex", "age_band": "13_15", "offline": []},
        },
        "devices": [
            {"ip": sam_device, "name": "Sam's tablet", "owner": "sam"},
            {"ip": ALEX, "name": "Alex's phone", "owner": "alex"},
        ],
    }


class BlockPageBox:
    """filterd and the dashboard (with its plain-HTTP listener) on one config file."""

    def __init__(self, filterd: FilterdProcess, dashboard: DashboardProcess, http_port: int):
        self.filterd = filterd
        self.dashboard = dashboard
        self.http_port = http_port
        self.rules_path = Path(filterd.config["rules"])
        self.clock = self.rules_path.parent / "clock"

    def write_rules(self, **sam: object) -> None:
        self.rules_path.write_text(with_end_line(yaml.safe_dump(block_page_rules(**sam))))

    def ask(self, name: str, source: str = SAM) -> DNSRecord:
        raw = udp_exchange(
            self.filterd.port, make_query(name, "A", edns=True).pack(), source=source
        )
        assert raw is not None, f"no answer from filterd to {source}"
        return DNSRecord.parse(raw)

    def blocked_and_logged(
        self, name: str, reason: str, source: str = SAM, answer: str = SAM
    ) -> None:
        """filterd answers the name with the block page's address (the box, toward Sam; the
        household's own lists answer in the household's style), and has logged why."""
        reply = self.ask(name, source)
        assert addresses(reply) == [answer], f"{name}: {addresses(reply)}"

        def logged() -> bool:
            with sqlite3.connect(self.filterd.db_path) as db:
                try:
                    row = db.execute(
                        "SELECT reason FROM queries WHERE name = ? AND client = ?"
                        " ORDER BY id DESC LIMIT 1",
                        (name, source),
                    ).fetchone()
                except sqlite3.OperationalError:
                    return False
            return row is not None and row[0] == reason

        assert wait_for(logged, 10), f"{name} not logged as {reason}"

    def post(self, name: str, source: str, message: str, origin: str | None = None) -> int:
        """A request for access from `source` for `name`; the status answered."""
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.http_port, timeout=5, source_address=(source, 0)
        )
        body = urllib.parse.urlencode({"message": message})
        headers = {"Host": name, "Content-Type": "application/x-www-form-urlencoded"}
        if origin is not None:
            headers["Origin"] = origin
        try:
            connection.request("POST", "/", body=body, headers=headers)
            return connection.getresponse().status
        finally:
            connection.close()

    def requests_stored(self) -> list[tuple]:
        with sqlite3.connect(self.filterd.config["dashboard"]["database"]) as db:
            return db.execute(
                "SELECT child, device, site, message, state, answer FROM access_requests"
                " ORDER BY id"
            ).fetchall()

    def visit(self, name: str, source: str, path: str = "/watch?v=1") -> str:
        """The page plain HTTP gives `source` for a blocked `name` (Host header)."""
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.http_port, timeout=5, source_address=(source, 0)
        )
        try:
            connection.request("GET", path, headers={"Host": name})
            response = connection.getresponse()
            assert response.status == 200
            assert response.getheader("Cache-Control") == "no-store"
            return response.read().decode()
        finally:
            connection.close()


@contextmanager
def running_block_page_box(
    start_filterd: Callable[..., FilterdProcess], tmp_path: Path
) -> Iterator[BlockPageBox]:
    """filterd with lists for every reason the page explains, its clock file at real time, and
    the dashboard on the same config; the dashboard is stopped on leaving."""
    rules_path = tmp_path / "rules.yaml"
    rules_path.write_text(with_end_line(yaml.safe_dump(block_page_rules())))
    shipped = write_lists(
        tmp_path / "shipped",
        self_harm=["harm.example"],
        eating_disorders=["thin.example"],
        gaming=["games.example"],
        social=["social.example"],
        illegal=["forbidden.example"],
    )
    clock = tmp_path / "clock"
    clock.write_text("0")
    listen, http_port = f"127.0.0.1:{free_port()}", free_port()
    filterd = start_filterd(
        env={"FILTERD_CLOCK_FILE": str(clock)},
        rules=str(rules_path),
        dashboard={
            "listen": listen,
            "http_listen": f"127.0.0.1:{http_port}",
            "database": str(tmp_path / "dashboard.db"),
            "allowed_hosts": ["127.0.0.1", "localhost", "filterd.home.arpa"],
        },
        lists_update={
            "directory": str(tmp_path / "lists"),
            "shipped": str(shipped),
            "refresh_hours": 0,
        },
    )
    dashboard = start_dashboard(filterd, listen, tmp_path)
    try:
        yield BlockPageBox(filterd, dashboard, http_port)
    finally:
        dashboard.stop()
