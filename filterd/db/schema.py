"""Every table of var/filterd.db, its schema version and the migrations between versions.

filterd.db is written by filterd (the query-log writer process, the usage/status thread, the
device thread, the event recorder) and the dashboard appends events (its saves announced, the
records witnessed, self-test requests); the dashboard reads it only through filterd.db.read. Each
writer opens the file with `open_for_writing`, which upgrades an older file in place under one
write lock, so whichever starts first does the upgrade and the others find it done. Nothing
else changes the schema: a writer's open runs no CREATE of its own.

The version is SQLite's `PRAGMA user_version`. Version 0 is the release before versions: its
tables are the same as version 1's except that the query log's ids could be reused.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from filterd.dns.query import BLOCKING_REASONS
from filterd.lists.categories import HIGH_RISK

log = logging.getLogger("filterd.db")

# The query log. `id` is AUTOINCREMENT and starts at the creation time in microseconds, so an
# id is never given to two entries: not after pruning (SQLite would otherwise reuse the ids of
# deleted last rows) and not after the file is deleted and made again. Reviews in dashboard.db
# are keyed on it.
QUERIES = """
CREATE TABLE IF NOT EXISTS queries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,           -- unix seconds
    client TEXT NOT NULL,       -- source address
    name TEXT NOT NULL,         -- lower case, unsafe bytes escaped as \\DDD
    qtype TEXT NOT NULL,        -- A, AAAA, HTTPS, or TYPE65534
    rcode TEXT NOT NULL,        -- NOERROR, NXDOMAIN, SERVFAIL...
    reason TEXT NOT NULL,       -- filterd.dns.query.Reason: forwarded, cached, blocked, offline...
    latency_ms REAL NOT NULL,
    cached INTEGER NOT NULL,
    categories TEXT NOT NULL DEFAULT '',  -- comma-separated category ids the name is in
    child TEXT NOT NULL DEFAULT '',       -- the child whose rules answered ('' for none)
    service TEXT NOT NULL DEFAULT ''      -- the app (filterd.catalogue id) the name belongs to
);
"""
QUERY_COLUMNS = (
    "id, ts, client, name, qtype, rcode, reason, latency_ms, cached, categories, child, service"
)

# Blocked answers, for the dashboard's review queue: a partial index, so a month's review reads
# only the blocked rows, not every query. A reader's WHERE must contain BLOCKED_CONDITION as
# written here (literals, not parameters) for SQLite to use it; filterd.db.read does.
BLOCKED_CONDITION = "reason IN ({})".format(", ".join(f"'{r}'" for r in BLOCKING_REASONS))
# Blocked answers in a high-risk category get their own partial index (a small share of the
# blocked rows), so finding them never reads a month of adverts and games.
HIGH_RISK_CONDITION = "({})".format(
    " OR ".join(f"(',' || categories || ',') LIKE '%,{c},%'" for c in HIGH_RISK)
)
# The partial indexes' WHERE follows BLOCKING_REASONS and filterd.lists.categories.HIGH_RISK:
# whenever either changes, every writer's open finds the index's text differs (sqlite_master),
# drops it and builds the current one (_current_indexes).
QUERY_INDEXES = f"""
CREATE INDEX IF NOT EXISTS queries_ts ON queries(ts);
CREATE INDEX IF NOT EXISTS queries_blocked_ts ON queries(ts) WHERE {BLOCKED_CONDITION};
CREATE INDEX IF NOT EXISTS queries_high_risk_v2_ts ON queries(ts)
    WHERE {BLOCKED_CONDITION} AND {HIGH_RISK_CONDITION};
CREATE INDEX IF NOT EXISTS queries_child_ts ON queries(child, ts);
"""

# Usage per child and day, and filterd's status (written by filterd.db.usage_status).
STATE = """
CREATE TABLE IF NOT EXISTS usage (
    day TEXT NOT NULL,          -- the usage day (YYYY-MM-DD; days start at the reset time)
    child TEXT NOT NULL,
    category TEXT NOT NULL,     -- a category id, or 'overall' for every active minute
    minutes INTEGER NOT NULL,
    last_minute INTEGER NOT NULL,  -- epoch minute last counted, so a restart never counts twice
    PRIMARY KEY (day, child, category)
);
CREATE TABLE IF NOT EXISTS status (
    key TEXT PRIMARY KEY,       -- 'rules' (last check of the rules file), 'clock' (trusted
                                -- time), 'heartbeat' (filterd.events.heartbeat): JSON values
    value TEXT NOT NULL,
    updated REAL NOT NULL
);
"""

# Devices seen on the network (written by filterd.db.devices).
DEVICES = """
CREATE TABLE IF NOT EXISTS devices (
    mac TEXT PRIMARY KEY,       -- lower case, colon separated
    address TEXT,               -- the address it used last
    hostname TEXT,              -- DHCP option 12 or a lease file
    vendor TEXT,                -- from the IEEE registry; NULL for private addresses
    vendor_class TEXT,          -- DHCP option 60 (android-dhcp-13, MSFT 5.0...)
    fingerprint TEXT,           -- DHCP option 55, the parameters it asks for
    private INTEGER NOT NULL,   -- 1: a private (randomised, locally administered) address
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS device_addresses (
    mac TEXT NOT NULL,
    address TEXT NOT NULL,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL,
    PRIMARY KEY (mac, address)
);
CREATE TABLE IF NOT EXISTS device_events (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    mac TEXT NOT NULL,
    kind TEXT NOT NULL,         -- new_device
    detail TEXT NOT NULL DEFAULT ''
);
"""

# The event log (written through filterd.db.events): ordered and append-only, ids from
# AUTOINCREMENT; triggers refuse UPDATE, and DELETE of any event younger than EVENT_DAYS, so
# only pruning by retention can remove one (a change of EVENT_DAYS needs a migration that
# drops the trigger). The home's id is stored beside it.
EVENT_DAYS = 400
EVENTS = f"""
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- only grows, never reused
    ts REAL NOT NULL,                      -- unix seconds
    source TEXT NOT NULL,                  -- 'filterd' or 'dashboard'
    kind TEXT NOT NULL,                    -- filterd.events.kinds name
    version INTEGER NOT NULL,              -- the kind's version: what `data` holds
    severity TEXT NOT NULL,                -- info, warning, high, critical
    child TEXT NOT NULL DEFAULT '',        -- the child's id ('' for none)
    device TEXT NOT NULL DEFAULT '',       -- the device's address ('' for none)
    data TEXT NOT NULL DEFAULT '{{}}'        -- JSON object, per kind and version
);
CREATE INDEX IF NOT EXISTS events_kind_id ON events(kind, id);
CREATE INDEX IF NOT EXISTS events_ts ON events(ts);
CREATE TRIGGER IF NOT EXISTS events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_append_only_delete BEFORE DELETE ON events
WHEN old.ts >= CAST(strftime('%s', 'now') AS INTEGER) - {EVENT_DAYS} * 86400
BEGIN SELECT RAISE(ABORT, 'the event log is append-only until its retention ends'); END;
CREATE TABLE IF NOT EXISTS home (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    id TEXT NOT NULL,                      -- random UUID: this home among many
    created REAL NOT NULL
);
"""

TABLES = QUERIES + STATE + DEVICES + EVENTS


def statements(script: str) -> list[str]:
    """A script's statements, to run one by one inside our own transaction (executescript
    would commit it)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return statements


def _seed_ids(db: sqlite3.Connection) -> None:
    """Start the query log's ids at least at now in microseconds (see QUERIES)."""
    floor = int(time.time() * 1_000_000)
    db.execute("DELETE FROM sqlite_sequence WHERE name = 'queries'")
    db.execute(
        "INSERT INTO sqlite_sequence (name, seq)"
        " SELECT 'queries', max(?, coalesce((SELECT max(id) FROM queries), 0))",
        (floor,),
    )


def _create(db: sqlite3.Connection) -> None:
    for statement in statements(TABLES + QUERY_INDEXES):
        db.execute(statement)
    _seed_ids(db)


def _from_0(db: sqlite3.Connection) -> None:
    """Release 0 -> 1: the query log's ids are never reused (table rebuilt with AUTOINCREMENT,
    rows and ids kept); a log older still gains its missing columns first; the event log may
    be pruned past its retention."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(queries)")}
    if columns:
        for added in ("categories", "child", "service"):
            if added not in columns:
                db.execute(f"ALTER TABLE queries ADD COLUMN {added} TEXT NOT NULL DEFAULT ''")
        db.execute("ALTER TABLE queries RENAME TO queries_release_0")
    db.execute("DROP TRIGGER IF EXISTS events_append_only_delete")  # refused every delete
    for statement in statements(TABLES):
        db.execute(statement)
    if columns:
        db.execute(
            f"INSERT INTO queries ({QUERY_COLUMNS}) SELECT {QUERY_COLUMNS} FROM queries_release_0"
        )
        db.execute("DROP TABLE queries_release_0")
    for statement in statements(QUERY_INDEXES):
        db.execute(statement)
    _seed_ids(db)


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_from_0]
"""MIGRATIONS[n] upgrades version n to n + 1, and the schema version is their number: adding a
step is what raises it, so a file today's release wrote runs the new step on its next open.
Add one for every change of a table, and commit a file the release before wrote
(tests/fixtures, tests/test_db_schema.py opens each). A step must tolerate what is there
already: `_from_0` makes its tables from today's text (TABLES), so a file it upgraded may hold
a column or table a later step adds; check PRAGMA table_info / IF NOT EXISTS before adding."""

SCHEMA_VERSION = len(MIGRATIONS)


def _index_text(sql: str) -> str:
    """An index's CREATE statement as sqlite_master keeps it (no IF NOT EXISTS, one space
    between words), to compare the index a file has with the one this release makes."""
    return " ".join(sql.replace("IF NOT EXISTS ", "").split()).rstrip(";")


def _current_indexes(db: sqlite3.Connection) -> None:
    """Rebuild every query-log index whose text differs from this release's (a partial index's
    WHERE follows the Reason and Category tables: one built for another set of reasons or
    categories is never used for the readers' WHERE, and each read of the log would become a
    scan), drop the high-risk index's older names, and make every index that is missing."""
    wanted = {}
    for statement in statements(QUERY_INDEXES):
        name = statement.split(" ON ")[0].split()[-1]
        wanted[name] = _index_text(statement)
    for name, sql in db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'queries'"
        " AND sql IS NOT NULL"
    ).fetchall():
        stale_name = name.startswith("queries_high_risk") and name not in wanted
        if stale_name or (name in wanted and _index_text(sql) != wanted[name]):
            log.info("filterd.db: index %s rebuilt for this release's conditions", name)
            db.execute(f'DROP INDEX "{name}"')
    for statement in statements(QUERY_INDEXES):
        db.execute(statement)


def version_of(db: sqlite3.Connection) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def schema_version(path: Path) -> int:
    """The schema version of the database file at `path`, opened read-only (never created or
    upgraded: a backup or restore asks what a file is before deciding what to do with it)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return version_of(db)
    finally:
        db.close()


def snapshot(source: Path, target: Path, timeout: float = 10) -> int:
    """Copy a live database to `target` with SQLite's online backup API: a consistent copy
    while writers carry on (never a torn file copy), and a reader of `target` never sees a
    half-written one. Used for filterd.db and dashboard.db alike (backups and restores); returns
    the copy's schema version. Creates neither file's tables."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=timeout)
    dst = sqlite3.connect(target, timeout=timeout)
    try:
        src.backup(dst)
        return version_of(dst)
    finally:
        dst.close()
        src.close()


def migrate(db: sqlite3.Connection) -> int:
    """Create or upgrade the tables in place, under one write lock; returns the version found."""
    db.commit()
    db.execute("BEGIN IMMEDIATE")  # another writer waits here until the upgrade is done
    try:
        current = len(MIGRATIONS)
        found = version_of(db)
        if found > current:
            log.warning(
                "filterd.db is version %d, newer than this filterd (%d): used as it is",
                found,
                current,
            )
        elif found < current:
            exists = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table'").fetchone()
            if exists is None:
                _create(db)
            else:
                for step in MIGRATIONS[found:]:
                    step(db)
                log.info("filterd.db upgraded from version %d to %d", found, current)
            db.execute(f"PRAGMA user_version = {current}")
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'queries'").fetchone():
            _current_indexes(db)
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'home'").fetchone():
            db.execute(  # a row, not the schema: this home's id, made once (filterd.db.events)
                "INSERT OR IGNORE INTO home (one, id, created) VALUES (1, ?, ?)",
                (str(uuid.uuid4()), time.time()),
            )
        db.commit()
    except BaseException:
        db.rollback()
        raise
    return found


def _create_group_writable(path: Path) -> None:
    """Create the file as 0660 less the umask: SQLite would make it 0644 less the umask, so on
    a box (UMask=0007) the dashboard's user, in filterd's group, could read filterd.db but not
    append the events it records there. SQLite gives the -wal and -shm files the same mode."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o660))


def open_for_writing(path: Path, timeout: float = 10, **options) -> sqlite3.Connection:
    """filterd.db in WAL mode (the dashboard reads while filterd writes), at SCHEMA_VERSION."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _create_group_writable(path)
    db = sqlite3.connect(path, timeout=timeout, **options)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    migrate(db)
    return db
