"""The event log in var/filterd.db: one ordered, append-only table both filterd and the
dashboard append to, read by alerts, digests, reports and a later organisation-wide view.

Ids come from AUTOINCREMENT, so they only grow and are never reused, whichever process
appends; triggers refuse UPDATE, and DELETE until an event is past its retention
(filterd.db.schema.EVENT_DAYS, where the table is defined). The home's id (a random UUID
made the first time a writer opens the file: filterd.db.schema.migrate) is stored beside it,
so (home, id) names one event among many homes and a stream of `Event.to_stream()` lines can
be merged from many homes unchanged.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from filterd.db.schema import EVENT_DAYS
from filterd.db.thread_db import ThreadDb
from filterd.events.kinds import KINDS, Kind

STREAM_SCHEMA = 1  # the version of the to_stream() layout itself

INSERT = (
    "INSERT INTO events (ts, source, kind, version, severity, child, device, data)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
COLUMNS = "id, ts, source, kind, version, severity, child, device, data"


class Event(NamedTuple):
    id: int
    ts: float
    source: str
    kind: str
    version: int
    severity: str
    child: str
    device: str
    data: dict[str, Any]

    def to_stream(self, home: str) -> dict[str, Any]:
        """The event as one JSON object of the documented stream layout (README "Event log")."""
        moment = datetime.fromtimestamp(self.ts, UTC).isoformat(timespec="milliseconds")
        return {
            "schema": STREAM_SCHEMA,
            "home": home,
            "id": self.id,
            "time": moment.replace("+00:00", "Z"),
            "source": self.source,
            "kind": self.kind,
            "version": self.version,
            "severity": self.severity,
            "child": self.child,
            "device": self.device,
            "data": self.data,
        }


def row_of(
    kind: Kind,
    source: str,
    child: str = "",
    device: str = "",
    data: Mapping[str, Any] | None = None,
    ts: float | None = None,
) -> tuple:
    """An INSERT row for one event (for a writer that appends inside its own transaction)."""
    if KINDS.get(kind.name) != kind:
        raise ValueError(f"unknown event kind {kind.name!r}")
    when = time.time() if ts is None else ts
    text = json.dumps(dict(data or {}), separators=(",", ":"), sort_keys=True)
    return (when, source, kind.name, kind.version, kind.severity.value, child, device, text)


def read_after(db: sqlite3.Connection, after: int = 0, limit: int = 1000) -> list[Event]:
    """Events with an id above `after`, oldest first (a reader keeps the last id it saw)."""
    rows = db.execute(
        f"SELECT {COLUMNS} FROM events WHERE id > ? ORDER BY id LIMIT ?", (after, limit)
    )
    return [Event(*row[:8], json.loads(row[8])) for row in rows]


def of_kind_since(db: sqlite3.Connection, kind: str, since: float) -> list[Event]:
    """Events of one kind at or after `since`, oldest first."""
    rows = db.execute(
        f"SELECT {COLUMNS} FROM events WHERE kind = ? AND ts >= ? ORDER BY id", (kind, since)
    )
    return [Event(*row[:8], json.loads(row[8])) for row in rows]


def home_id(db: sqlite3.Connection) -> str:
    row = db.execute("SELECT id FROM home WHERE one = 1").fetchone()
    return row[0] if row else ""


class EventLog(ThreadDb):
    """Append and read through one connection; every method may block (call it in a thread)."""

    def __init__(self, path: Path, source: str) -> None:
        super().__init__(path)
        self.source = source

    def append(
        self,
        kind: Kind,
        child: str = "",
        device: str = "",
        data: Mapping[str, Any] | None = None,
        ts: float | None = None,
    ) -> int:
        """Append one event; its id."""
        row = row_of(kind, self.source, child, device, data, ts)
        with self.lock:
            db = self._connect()
            cursor = db.execute(INSERT, row)
            self._prune_if_due(db)
            db.commit()
            return int(cursor.lastrowid or 0)

    def prune(self, db: sqlite3.Connection, now: float) -> None:
        db.execute("DELETE FROM events WHERE ts < ?", (now - EVENT_DAYS * 86_400,))

    def read_after(self, after: int = 0, limit: int = 1000) -> list[Event]:
        with self.lock:
            return read_after(self._connect(), after, limit)

    def of_kind_since(self, kind: str, since: float) -> list[Event]:
        with self.lock:
            return of_kind_since(self._connect(), kind, since)

    def newest_id_of(self, kind: str) -> int:
        """The id of the newest event of one kind (0 when there is none)."""
        with self.lock:
            row = (
                self._connect()
                .execute("SELECT coalesce(max(id), 0) FROM events WHERE kind = ?", (kind,))
                .fetchone()
            )
            return int(row[0])

    def announced(self, version: str, recent: int = 200) -> bool:
        """Whether the dashboard announced a save of this rules file version lately."""
        with self.lock:
            rows = self._connect().execute(
                "SELECT data FROM events WHERE kind = 'rules.saved' ORDER BY id DESC LIMIT ?",
                (recent,),
            )
            return any(json.loads(row[0]).get("version") == version for row in rows)

    def home(self) -> str:
        with self.lock:
            return home_id(self._connect())
