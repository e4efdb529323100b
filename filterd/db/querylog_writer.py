"""The query-log writer process: reads batches from its stdin, writes them to SQLite.

It runs as its own process so that turning names into text and inserting rows (about 4 us an
entry) never holds the DNS process's GIL. Input frames are a 4-byte length and a marshal'd list
of entries; after each batch it reports "written N dropped M" on stdout.
Run by the daemon as `python -m filterd.db.querylog_writer DATABASE RETENTION_DAYS`.
The tables and indexes are defined in filterd.db.schema.
"""

from __future__ import annotations

import contextlib
import logging
import marshal
import os
import signal
import sqlite3
import struct
import sys
import time
from pathlib import Path
from typing import BinaryIO

from filterd.db import events
from filterd.db.schema import open_for_writing
from filterd.dns.query import BLOCKING_REASONS
from filterd.dns.records import qtype_name
from filterd.dns.wire import name_to_text, rcode_name
from filterd.events.kinds import BLOCK_HIGH_RISK, BLOCK_ILLEGAL, BYPASS_ATTEMPT, Kind
from filterd.lists.categories import HIGH_RISK, ids_of, mask_of
from filterd.log_throttle import QuietLog

log = logging.getLogger("filterd.querylog")

HIGH_RISK_MASK = mask_of(HIGH_RISK)
ILLEGAL_MASK = mask_of(["illegal"])
BYPASS_MASK = mask_of(["bypass"])
EVENT_REPEAT_SECONDS = 60.0  # one event per device and name a minute (A, AAAA, retries)
BLOCKED_REASONS = frozenset(str(r) for r in BLOCKING_REASONS)
INSERT = (
    "INSERT INTO queries (ts, client, name, qtype, rcode, reason, latency_ms, cached,"
    " categories, child) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)  # rows without an app: `service` takes its default (tests and benchmarks fill logs so)
INSERT_WITH_APP = (
    "INSERT INTO queries (ts, client, name, qtype, rcode, reason, latency_ms, cached,"
    " categories, child, service) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
FRAME = struct.Struct("!I")
PRUNE_INTERVAL = 3600.0
NAME_MEMO_LIMIT = 100_000
WRITER_NICENESS = 10
REOPEN_INTERVAL = 10.0  # seconds between tries to open a database that cannot be opened


def open_database(path: Path) -> sqlite3.Connection:
    """filterd.db at the current schema version (created or upgraded in place), in WAL mode so
    the dashboard can read while we write."""
    db = open_for_writing(path, timeout=5)
    refresh_statistics(db)
    return db


class Writer:
    """Turns entries into rows; names are memoised because a home asks the same ones often.

    The database is opened on first use and again every REOPEN_INTERVAL while it cannot be
    (a missing directory, no permission): meanwhile entries are dropped and counted, and the
    problem is said once and then summarised, never a traceback and a restart every 10 s.
    """

    def __init__(self, path: Path, retention_days: int) -> None:
        self.path = path
        self.db: sqlite3.Connection | None = None
        self.retention_days = retention_days
        self.names: dict[bytes, str] = {}
        self.written = 0
        self.dropped = 0
        self.next_prune = 0.0
        self.recent_events: dict[tuple[str, str], float] = {}
        self.next_open = 0.0
        self.cannot_open = QuietLog(log, f"query log database {path} cannot be opened")
        self.cannot_write = QuietLog(log, "query log write failed")

    def connection(self) -> sqlite3.Connection | None:
        if self.db is None and time.monotonic() >= self.next_open:
            try:
                self.db = open_database(self.path)
                self.cannot_open.ended("opened; writing the query log again")
            except (sqlite3.Error, OSError) as err:
                self.next_open = time.monotonic() + REOPEN_INTERVAL
                self.cannot_open.happened(err)
        return self.db

    def write(self, entries: list[tuple]) -> None:
        db = self.connection()
        if db is None:
            self.dropped += len(entries)
            self.cannot_open.happened("still cannot open it", len(entries))
            return
        names = self.names
        if len(names) > NAME_MEMO_LIMIT:
            names.clear()
        rows = []
        worthy: list[tuple[int, Kind]] = []  # (row index, kind) of blocks that are events
        for entry in entries:
            ts, client, wire, qtype, rcode, reason, latency, cached, categories, child = entry[:10]
            service = entry[10] if len(entry) > 10 else ""
            name = names.get(wire)
            if name is None:
                name = names[wire] = name_to_text(wire)
            listed = ",".join(ids_of(categories)) if categories else ""
            rows.append(
                (
                    ts,
                    client,
                    name,
                    qtype_name(qtype),
                    rcode_name(rcode),
                    reason,
                    round(latency * 1000, 3),
                    int(cached),
                    listed,
                    child,
                    service,
                )
            )
            if categories & HIGH_RISK_MASK and reason in BLOCKED_REASONS:
                kind = self.event_kind(ts, client, name, categories)
                if kind is not None:
                    worthy.append((len(rows) - 1, kind))
        try:
            self.insert(rows, worthy)
            db.commit()
            self.written += len(rows)
            self.cannot_write.ended()
        except sqlite3.Error as err:  # disk full, read-only: lose the log, never DNS
            self.dropped += len(rows)
            self.cannot_write.happened(err, len(rows))
            with contextlib.suppress(sqlite3.Error):
                db.rollback()
        self.prune_if_due()

    def event_kind(self, ts: float, client: str, name: str, categories: int) -> Kind | None:
        """The kind of event a high-risk block is, or None when the same device asked the
        same name under a minute ago (A and AAAA, retries: one event, not five). A time
        remembered from the future (the wall clock stepped back since) has expired: it must
        never swallow an event."""
        key = (client, name)
        since = ts - self.recent_events.get(key, -EVENT_REPEAT_SECONDS)
        if 0 <= since < EVENT_REPEAT_SECONDS:
            return None
        if len(self.recent_events) > NAME_MEMO_LIMIT:
            self.recent_events.clear()
        self.recent_events[key] = ts
        if categories & ILLEGAL_MASK:
            return BLOCK_ILLEGAL
        if categories & BYPASS_MASK:
            return BYPASS_ATTEMPT
        return BLOCK_HIGH_RISK

    def insert(self, rows: list[tuple], worthy: list[tuple[int, Kind]]) -> None:
        """Insert rows in order; each event's block is inserted alone so the event can name
        its query log entry (the link an alert carries), in the same transaction."""
        db = self.db
        start = 0
        for index, kind in worthy:
            db.executemany(INSERT_WITH_APP, rows[start:index])
            row = rows[index]
            query_id = db.execute(INSERT_WITH_APP, row).lastrowid
            data = {
                "query_id": query_id,
                "name": row[2],
                "categories": row[8].split(","),
                "reason": row[5],
            }
            db.execute(events.INSERT, events.row_of(kind, "filterd", row[9], row[1], data, row[0]))
            start = index + 1
        db.executemany(INSERT_WITH_APP, rows[start:])

    def prune_if_due(self) -> None:
        now = time.time()
        if now < self.next_prune or self.db is None:
            return
        self.next_prune = now + PRUNE_INTERVAL
        try:
            self.db.execute(
                "DELETE FROM queries WHERE ts < ?", (now - self.retention_days * 86400,)
            )
            self.db.commit()
            refresh_statistics(self.db)
        except sqlite3.Error as err:
            log.warning("query log pruning failed: %s", err)


def refresh_statistics(db: sqlite3.Connection) -> None:
    """Keep SQLite's statistics current (a sampled ANALYZE, milliseconds even for millions of
    rows), so the dashboard's queries pick the narrow partial indexes, not the widest one."""
    db.execute("PRAGMA analysis_limit=1000")
    has_statistics = db.execute(
        "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
    ).fetchone()
    db.execute("PRAGMA optimize" if has_statistics else "ANALYZE")
    db.commit()


def lower_priority() -> None:
    """Answering DNS comes before writing the log: on a busy core the kernel lets the DNS
    process preempt this one, and a writer that falls behind drops and counts entries.

    A nice level rather than SCHED_IDLE: measured, SCHED_IDLE gained DNS under 4% at
    saturation but lost three quarters of the log; nice keeps most of it.
    """
    os.nice(WRITER_NICENESS)


def read_frames(stream: BinaryIO):
    """Yield each batch until the daemon closes the pipe."""
    while True:
        head = stream.read(FRAME.size)
        if len(head) < FRAME.size:
            return
        body = stream.read(FRAME.unpack(head)[0])
        yield marshal.loads(body)


def main(argv: list[str]) -> int:
    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    database, retention_days = Path(argv[0]), int(argv[1])
    lower_priority()
    # Stopping is the daemon's call: it closes the pipe and this process writes what is left
    # and exits. The daemon starts us with the stop signals already ignored; run by hand, the
    # same holds from here on.
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    writer = Writer(database, retention_days)
    writer.connection()  # at once, so the schema exists before the first entries
    for message in read_frames(sys.stdin.buffer):
        if isinstance(message, int):  # a new retention period after a config reload
            writer.retention_days = message
            continue
        writer.write(message)
        sys.stdout.write(f"written {writer.written} dropped {writer.dropped}\n")
        sys.stdout.flush()
    if writer.db is not None:
        writer.db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
