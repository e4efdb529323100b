"""A child's device, filterd's event log read back, and the lists the event tests block, for
tests of what filterd records (real filterd, real SQLite)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from dnslib import DNSRecord

from tests.support.dns_client import make_query, udp_exchange
from tests.support.lists import write_lists

SAM = "127.0.0.2"


NO_DISCOVERY = {"neighbour_table": False}  # this machine's own neighbours are not the test's


def ask(port: int, name: str, qtype: str = "A", source: str = SAM) -> DNSRecord | None:
    raw = udp_exchange(port, make_query(name, qtype).pack(), source=source, timeout=1.0)
    return None if raw is None else DNSRecord.parse(raw)


def events(db_path: Path) -> list[tuple]:
    with sqlite3.connect(db_path) as db:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'events'").fetchone():
            return []
        return db.execute(
            "SELECT id, source, kind, version, severity, child, device, data FROM events"
            " ORDER BY id"
        ).fetchall()


def kinds(db_path: Path) -> list[str]:
    return [row[2] for row in events(db_path)]


def lists(tmp_path: Path, **extra) -> dict:
    shipped = write_lists(
        tmp_path / "shipped",
        self_harm=["harm.example"],
        illegal=["http://abuse.example/x.html"],
        bypass=["vpn.example"],
        social=["social.example"],
    )
    return {
        "directory": str(tmp_path / "lists"),
        "shipped": str(shipped),
        "refresh_hours": 0,
        **extra,
    }
