"""Each child's usage per day and category, and filterd's status rows (rules, clock,
heartbeat), in filterd.db beside the query log.

Written from a worker thread (never the event loop: SQLite may wait on a lock held by the
query-log writer) through one connection (filterd.db.thread_db); read by the dashboard through
filterd.db.read. The tables are defined in filterd.db.schema.
"""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from filterd.db.thread_db import ThreadDb

UPSERT_USAGE = (
    "INSERT INTO usage (day, child, category, minutes, last_minute) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (day, child, category) DO UPDATE SET"
    " minutes = max(minutes, excluded.minutes), last_minute = excluded.last_minute"
)


class UsageStatusDb(ThreadDb):
    """The usage and status tables; every method may block, so call them in a thread."""

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
