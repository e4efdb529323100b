"""The one way filterd's writers reach filterd.db from a worker thread: one WAL connection,
opened on first use, used by one thread at a time, each writer pruning its own tables.

Written from a worker thread, never the event loop: SQLite may wait on a lock held by the
query-log writer. The tables are defined in filterd.db.schema.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from filterd.db.retention import PRUNE_INTERVAL, Retention
from filterd.db.schema import open_for_writing


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
