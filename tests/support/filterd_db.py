"""filterd.db rows for tests, written through filterd's own writers (the query-log writer's
INSERT on a file it opened, UsageStatusDb, DeviceStore), so tests see the file filterd makes."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from filterd.db.devices import DeviceStore, Sighting
from filterd.db.querylog_writer import INSERT_WITH_APP, open_database
from filterd.db.retention import Retention
from filterd.db.usage_status import UsageStatusDb

# For tests with fixed old clocks: nothing they write is past its retention.
LONG_AGO = Retention(activity_days=3650, device_days=3650, usage_days=3650)


def query_row(
    ts: float,
    name: str,
    *,
    reason: str = "blocked",
    categories: str = "",
    child: str = "sam",
    client: str = "192.168.1.20",
    rcode: str = "NXDOMAIN",
    qtype: str = "A",
    service: str = "",
) -> tuple:
    """One query-log row, in INSERT_WITH_APP's column order."""
    return (ts, client, name, qtype, rcode, reason, 1.0, 0, categories, child, service)


def write_queries(path: Path, rows: Iterable[tuple]) -> list[int]:
    """Append rows to filterd.db's query log (making the file as filterd does); their ids."""
    db = open_database(path)
    try:
        ids = [db.execute(INSERT_WITH_APP, row).lastrowid for row in rows]
        db.commit()
    finally:
        db.close()
    return ids


def write_rules_applied(path: Path) -> None:
    """The rules status filterd writes once it has applied the rules file with no problem."""
    write_status(path, "rules", {"ok": True, "problems": []})


def write_query_log(directory: Path, rows: Iterable[tuple]) -> list[int]:
    """directory/filterd.db as the dashboard finds it on a working box: the rules status good
    and these query-log rows (`query_row`); their ids, in order."""
    write_rules_applied(directory / "filterd.db")
    return write_queries(directory / "filterd.db", rows)


def write_usage(path: Path, rows: Iterable[tuple]) -> None:
    """(day, child, category, minutes) rows, written as filterd's usage tracker writes them."""
    state = UsageStatusDb(path, LONG_AGO)
    rows = [(*row[:4], 0) for row in rows]
    try:
        state.write_usage(rows)
    finally:
        state.close()


def write_status(path: Path, key: str, value: dict[str, Any]) -> None:
    state = UsageStatusDb(path, LONG_AGO)
    try:
        state.set_status(key, value)
    finally:
        state.close()


def write_devices(path: Path, sightings: Iterable[Sighting]) -> list[str]:
    """Record sightings as filterd's discovery does; the MACs new to the file."""
    store = DeviceStore(path, LONG_AGO)
    try:
        return store.record(sightings)
    finally:
        store.close()
