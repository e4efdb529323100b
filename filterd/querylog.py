"""The query log: SQLite (WAL), fed through a queue that never blocks DNS.

The event loop appends a tuple to a deque (atomic under the GIL, no lock, no I/O); a writer
thread drains it in batches. When the queue is full the entry is dropped and counted, and when
the disk fails (full, read-only) logging stops for a while but DNS goes on.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import sqlite3
import threading
import time
from pathlib import Path

from filterd.metrics import rcode_name
from filterd.wire import name_to_text

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS queries (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,           -- unix seconds
    client TEXT NOT NULL,       -- source address
    name TEXT NOT NULL,         -- lower case, unsafe bytes escaped as \\DDD
    qtype TEXT NOT NULL,        -- A, AAAA, HTTPS, or TYPE65534
    rcode TEXT NOT NULL,        -- NOERROR, NXDOMAIN, SERVFAIL...
    reason TEXT NOT NULL,       -- forwarded, cached, stale, local, rebinding, no_upstream
    latency_ms REAL NOT NULL,
    cached INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS queries_ts ON queries(ts);
"""
QTYPE_NAMES = {
    1: "A",
    2: "NS",
    5: "CNAME",
    6: "SOA",
    12: "PTR",
    13: "HINFO",
    15: "MX",
    16: "TXT",
    28: "AAAA",
    33: "SRV",
    35: "NAPTR",
    43: "DS",
    48: "DNSKEY",
    64: "SVCB",
    65: "HTTPS",
    255: "ANY",
}

# (wall time, client, wire name, qtype, rcode, reason value, latency seconds, cached)
Entry = tuple[float, str, bytes, int, int, str, float, bool]


def qtype_name(qtype: int) -> str:
    return QTYPE_NAMES.get(qtype, f"TYPE{qtype}")


def open_database(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the database in WAL mode so readers never block the writer."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, timeout=5)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(SCHEMA)
    db.commit()
    return db


class QueryLog:
    """Batched, bounded, never-blocking query log writer."""

    FLUSH_INTERVAL = 0.5
    BATCH = 5000
    PRUNE_INTERVAL = 3600.0

    def __init__(self, path: Path, retention_days: int, queue_size: int) -> None:
        self.path = path
        self.retention_days = retention_days
        self.queue_size = queue_size
        self._queue: collections.deque[Entry] = collections.deque()
        self.written = 0
        self.dropped = 0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._db = open_database(path)
        self._thread = threading.Thread(target=self._run, name="querylog", daemon=True)
        self._next_prune = 0.0

    def start(self) -> None:
        self._thread.start()

    def record(self, entry: Entry) -> None:
        """Queue one entry; drop and count it if the writer is too far behind."""
        if len(self._queue) < self.queue_size:
            self._queue.append(entry)
        else:
            self.dropped += 1

    def stats(self) -> dict[str, int]:
        return {"written": self.written, "dropped": self.dropped, "queued": len(self._queue)}

    def close(self) -> None:
        """Stop the writer after it has written everything queued (SIGTERM path)."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        else:
            self._write_batch()
        self._db.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.FLUSH_INTERVAL)
            self._wake.clear()
            while self._write_batch() == self.BATCH:
                pass
            self._prune_if_due()
        while self._write_batch():
            pass

    def _write_batch(self) -> int:
        queue = self._queue
        batch = []
        for _ in range(min(len(queue), self.BATCH)):
            ts, client, name, qtype, rcode, reason, latency, cached = queue.popleft()
            batch.append(
                (
                    ts,
                    client,
                    name_to_text(name),
                    qtype_name(qtype),
                    rcode_name(rcode),
                    reason,
                    round(latency * 1000, 3),
                    int(cached),
                )
            )
        if not batch:
            return 0
        try:
            self._db.executemany(
                "INSERT INTO queries (ts, client, name, qtype, rcode, reason, latency_ms, cached)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                batch,
            )
            self._db.commit()
            self.written += len(batch)
        except sqlite3.Error as err:
            self.dropped += len(batch)
            log.warning("query log write failed, %d entries dropped: %s", len(batch), err)
            with contextlib.suppress(sqlite3.Error):
                self._db.rollback()
            time.sleep(1.0)
        return len(batch)

    def _prune_if_due(self) -> None:
        now = time.time()
        if now < self._next_prune:
            return
        self._next_prune = now + self.PRUNE_INTERVAL
        try:
            self._db.execute(
                "DELETE FROM queries WHERE ts < ?", (now - self.retention_days * 86400,)
            )
            self._db.commit()
        except sqlite3.Error as err:
            log.warning("query log pruning failed: %s", err)
