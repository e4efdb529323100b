"""filterd's own state in var/filterd.db beside the query log: usage per day and status.

Written from a worker thread (never the event loop: SQLite may wait on a lock held by the
query-log writer) through one connection; read by the dashboard.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS usage (
    day TEXT NOT NULL,          -- the usage day (YYYY-MM-DD; days start at the reset time)
    child TEXT NOT NULL,
    category TEXT NOT NULL,     -- a category id, or 'overall' for every active minute
    minutes INTEGER NOT NULL,
    last_minute INTEGER NOT NULL,  -- epoch minute last counted, so a restart never counts twice
    PRIMARY KEY (day, child, category)
);
CREATE TABLE IF NOT EXISTS status (
    key TEXT PRIMARY KEY,       -- 'rules': the rules file's last check (JSON)
    value TEXT NOT NULL,
    updated REAL NOT NULL
);
"""
UPSERT_USAGE = (
    "INSERT INTO usage (day, child, category, minutes, last_minute) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (day, child, category) DO UPDATE SET"
    " minutes = max(minutes, excluded.minutes), last_minute = excluded.last_minute"
)


class ThreadDb:
    """Tables of filterd.db written through one WAL connection, opened on first use and used by
    one worker thread at a time (`lock`). Subclasses name their tables in `schema`."""

    schema = ""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=10, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(self.schema)
            db.commit()
            self._db = db
        return self._db

    def close(self) -> None:
        with self.lock:
            if self._db is not None:
                self._db.close()
                self._db = None


class StateDb(ThreadDb):
    """Usage and status tables; every method may block, so call them in a thread."""

    schema = SCHEMA

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
            db.commit()

    def set_status(self, key: str, value: dict[str, Any]) -> None:
        with self.lock:
            db = self._connect()
            db.execute(
                "INSERT OR REPLACE INTO status (key, value, updated) VALUES (?, ?, ?)",
                (key, json.dumps(value), time.time()),
            )
            db.commit()
