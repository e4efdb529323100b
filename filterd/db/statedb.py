"""filterd's own state in var/filterd.db beside the query log: usage per day and status.

Written from a worker thread (never the event loop: SQLite may wait on a lock held by the
query-log writer) through one connection; read by the dashboard through filterd.db.read. The
tables are defined in filterd.db.schema.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from filterd.db.retention import PRUNE_INTERVAL, Retention
from filterd.db.schema import open_for_writing

UPSERT_USAGE = (
    "INSERT INTO usage (day, child, category, minutes, last_minute) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (day, child, category) DO UPDATE SET"
    " minutes = max(minutes, excluded.minutes), last_minute = excluded.last_minute"
)


class ThreadDb:
    """Tables of filterd.db written through one WAL connection, opened on first use and used by
    one worker thread at a time (`lock`); each writer prunes its own tables (`prune`) at most
    once per PRUNE_INTERVAL."""

    def __init__(self, path: Path, retention: Retention | None = None) -> None:
        self.path = path
        self.retention = retention or Retention(activity_days=7)
        self.lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._next_prune = 0.0

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = open_for_writing(self.path, check_same_thread=False)
        return self._db

    def _prune_if_due(self, db: sqlite3.Connection) -> None:
        now = time.time()
        if now >= self._next_prune:
            self._next_prune = now + PRUNE_INTERVAL
            self.prune(db, now)

    def prune(self, db: sqlite3.Connection, now: float) -> None:
        """Delete this writer's records older than their retention (the caller commits)."""

    def close(self) -> None:
        with self.lock:
            if self._db is not None:
                self._db.close()
                self._db = None


class StateDb(ThreadDb):
    """Usage and status tables; every method may block, so call them in a thread."""

    def usage_since(self, day: str) -> list[tuple[str, str, str, int, int]]:
        with self.lock:
            return (
                self._connect()
                .execute(
                    "SELECT day, child, category, minutes, last_minute FROM usage WHERE day >= ?",
                    (day,),
                )
                .fetchall()
            )

    def write_usage(self, rows: list[tuple[str, str, str, int, int]]) -> None:
        with self.lock:
            db = self._connect()
            db.executemany(UPSERT_USAGE, rows)
            self._prune_if_due(db)
            db.commit()

    def set_status(self, key: str, value: dict[str, Any]) -> None:
        with self.lock:
            db = self._connect()
            db.execute(
                "INSERT OR REPLACE INTO status (key, value, updated) VALUES (?, ?, ?)",
                (key, json.dumps(value), time.time()),
            )
            db.commit()

    def prune(self, db: sqlite3.Connection, now: float) -> None:
        db.execute("DELETE FROM usage WHERE day < ?", (self.retention.usage_cutoff(now),))
