"""var/dashboard.db: accounts, sessions, the audit trail and reviews of blocked requests.

Written only by the dashboard; every table, column, index and trigger is defined here (SCHEMA),
and nowhere else (tests/unit/test_schema_owners.py). Each request opens its own connection
(SQLite connections are cheap and not shared between threads); one whose `PRAGMA user_version`
is not SCHEMA_VERSION creates the file, or upgrades it in place through MIGRATIONS (version 0 is
the release before versions; tests/fixtures holds files earlier releases wrote). A change to a
table is a new migration, never a statement run on every connection. filterd.db is read through
filterd.db.read, never here.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

from filterd.db.schema import statements

# Version 1: accounts, sessions, the audit trail, reviews, alerts, requests, device decisions.
CORE = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role TEXT NOT NULL,             -- administrator, carer, safeguarding_lead, viewer, practitioner
    password_hash TEXT NOT NULL,    -- argon2id
    created REAL NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    email TEXT NOT NULL DEFAULT '',  -- where this account's alerts go
    -- two-factor (dashboard.data.two_factor): the TOTP secret in force, one being enrolled,
    -- and the last time step used (a code works once)
    totp_secret TEXT NOT NULL DEFAULT '',
    totp_pending TEXT NOT NULL DEFAULT '',
    totp_last_step INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,    -- sha256 of the cookie's token: a leaked table opens nothing
    user_id INTEGER NOT NULL REFERENCES users(id),
    csrf TEXT NOT NULL,
    created REAL NOT NULL,
    last_seen REAL NOT NULL,
    -- listed and ended by people (dashboard.data.sessions): a random id to show and end one
    -- by, where it was started from, and whether its second factor was given
    public_id TEXT NOT NULL DEFAULT '',
    remote TEXT NOT NULL DEFAULT '',
    agent TEXT NOT NULL DEFAULT '',
    verified INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS login_attempts (  -- dashboard.data.throttle
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    kind TEXT NOT NULL,             -- password, setup-code, two-factor
    name TEXT NOT NULL,
    remote TEXT NOT NULL,
    device TEXT NOT NULL DEFAULT '' -- known device's id: its own failures only
);
CREATE INDEX IF NOT EXISTS login_attempts_ts ON login_attempts(ts);
CREATE TABLE IF NOT EXISTS known_devices (
    token_hash TEXT PRIMARY KEY,    -- sha256 of the device cookie
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    user TEXT NOT NULL,
    action TEXT NOT NULL,           -- rules.save, child.pause, review, export, user.add...
    target TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',  -- the client address of the request
    -- dashboard.data.hash_chain: the hash of the row before ('' before the chain began) and its own
    prev TEXT NOT NULL DEFAULT '',
    hash TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_ts ON audit(ts);
CREATE TABLE IF NOT EXISTS reviews (  -- append-only: every review kept, the latest in force
    id INTEGER PRIMARY KEY,
    query_id INTEGER NOT NULL,      -- filterd.db queries.id of the blocked request (never reused)
    outcome TEXT NOT NULL,          -- no_concern, discussed_with_child, raised_with_dsl
    note TEXT NOT NULL DEFAULT '',
    reviewer TEXT NOT NULL,
    ts REAL NOT NULL,
    prev TEXT NOT NULL DEFAULT '',  -- dashboard.data.hash_chain, as for audit
    hash TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS reviews_query ON reviews(query_id, id);
CREATE INDEX IF NOT EXISTS reviews_ts ON reviews(ts);
CREATE TABLE IF NOT EXISTS chain_anchors (  -- dashboard.data.hash_chain: the hash the first kept
    name TEXT PRIMARY KEY,                  -- row of a pruned table chains to
    prev TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alert_cursor (  -- dashboard.data.alert_outbox: the last event read
    one INTEGER PRIMARY KEY CHECK (one = 1),
    last_event INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS alert_choices (  -- what each account chose to receive
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,             -- an event kind its role may receive
    PRIMARY KEY (user_id, kind)
);
CREATE TABLE IF NOT EXISTS alerts (  -- dashboard.data.alert_outbox: one message and its delivery
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,       -- Message-ID / delivery id, the same on every try
    channel TEXT NOT NULL,          -- email, webhook
    recipient TEXT NOT NULL,        -- an email address, or a webhook's url
    group_key TEXT NOT NULL,        -- kind, child and category: one message per window
    window_start REAL NOT NULL,     -- when the group's window opened (event time)
    first_event INTEGER NOT NULL,   -- filterd.db events.id
    last_event INTEGER NOT NULL,
    count INTEGER NOT NULL,         -- events in this message
    content TEXT NOT NULL,          -- JSON: the least the recipient needs (never history)
    due REAL NOT NULL,              -- not sent before this
    held INTEGER NOT NULL DEFAULT 0, -- quiet hours: sent in the morning summary
    state TEXT NOT NULL,            -- pending, sending, sent
    attempts INTEGER NOT NULL DEFAULT 0,
    next_try REAL NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    sent REAL
);
CREATE TABLE IF NOT EXISTS digests_sent (  -- dashboard.alerts.notifier: each digest once
    period TEXT PRIMARY KEY,        -- daily:YYYY-MM-DD or weekly:YYYY-MM-DD (its first day)
    queued REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS access_requests (  -- dashboard.data.access_requests
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    client TEXT NOT NULL,           -- the device's address when it asked (for the hourly cap)
    child TEXT NOT NULL,            -- the child whose device it is (from its address)
    device TEXT NOT NULL,           -- the device's name in the rules
    site TEXT NOT NULL,             -- the blocked host name
    reason TEXT NOT NULL,           -- why it was blocked, in the words the child saw
    message TEXT NOT NULL DEFAULT '',  -- the child's own short message
    state TEXT NOT NULL DEFAULT 'waiting',  -- waiting, approved, declined
    answer TEXT NOT NULL DEFAULT '',  -- approved: for how long, in words; declined: the note
    decided_by TEXT NOT NULL DEFAULT '',
    decided REAL
);
CREATE TABLE IF NOT EXISTS device_decisions (  -- dashboard.data.device_decisions
    device TEXT PRIMARY KEY,        -- a MAC (lower case) or, for a device known by it, an address
    decision TEXT NOT NULL DEFAULT '',  -- visitor, removed, or '' (only a name given)
    name TEXT NOT NULL DEFAULT '',  -- a name given to a device the rules do not list
    decided_by TEXT NOT NULL,
    decided REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS children_left (  -- dashboard.data.children_left
    child TEXT PRIMARY KEY,         -- the id their records carry
    name TEXT NOT NULL,
    left_at REAL NOT NULL,
    removed_by TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS access_requests_client ON access_requests(client, ts);
CREATE INDEX IF NOT EXISTS alerts_group ON alerts(channel, recipient, group_key, id);
CREATE INDEX IF NOT EXISTS alerts_unsent ON alerts(next_try) WHERE state != 'sent';
"""
# Version 2 (MIGRATIONS: _from_1): each device's record and set-up checklist
# (dashboard.data.device_records), practitioners' time-limited accounts and the children each
# may see (dashboard.data.practitioners).
DEVICE_RECORDS_AND_PRACTITIONERS = """
CREATE TABLE IF NOT EXISTS device_records (  -- who bought a device, who holds its account...
    mac TEXT PRIMARY KEY,           -- lower case, colons: the device's hardware address
    bought_by TEXT NOT NULL DEFAULT '',
    account_holder TEXT NOT NULL DEFAULT '',  -- who holds the account or contract on it
    handed_over TEXT NOT NULL DEFAULT '',     -- YYYY-MM-DD it was handed to the carer
    reset TEXT NOT NULL DEFAULT '',           -- yes, no, not_sure ('' not answered yet)
    updated REAL NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS device_checks (  -- the set-up checklist: each item's state now
    mac TEXT NOT NULL,              -- (every tick and untick is in the audit trail too)
    item TEXT NOT NULL,             -- dashboard.data.device_records.CHECKLIST's keys
    done INTEGER NOT NULL,
    by TEXT NOT NULL,               -- who ticked (or unticked) it last
    ts REAL NOT NULL,
    PRIMARY KEY (mac, item)
);
CREATE TABLE IF NOT EXISTS practitioners (  -- a practitioner account's kind and end
    user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,             -- social_worker, iro, independent_visitor
    ends REAL NOT NULL,             -- no login and no session from this moment
    created_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS practitioner_children (  -- the only children it may see
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    child TEXT NOT NULL,            -- the child's id in the rules file
    PRIMARY KEY (user_id, child)
);
"""
# Version 3 (MIGRATIONS: _from_2): each child's online-safety agreement, its versions, signatures
# and review reminders (dashboard.data.agreements reads and writes them).
AGREEMENTS = """
CREATE TABLE IF NOT EXISTS agreement_versions (  -- append-only: every version kept
    id INTEGER PRIMARY KEY,
    child TEXT NOT NULL,            -- the child's id in the rules
    number INTEGER NOT NULL,        -- 1, 2, ... per child
    ts REAL NOT NULL,
    author TEXT NOT NULL,           -- who saved it, or RULES_CHANGED for a draft made by a change
    cause TEXT NOT NULL,            -- recorded, rules_changed
    in_force TEXT NOT NULL,         -- JSON [[setting, value], ...]: the child's rules then
    fields TEXT NOT NULL,           -- JSON: what people recorded (FIELDS)
    audit_after INTEGER NOT NULL,   -- audit entries after this id and up to audit_upto are
    audit_upto INTEGER NOT NULL,    -- the changes between the version before and this one
    UNIQUE (child, number)
);
CREATE TABLE IF NOT EXISTS agreement_signatures (  -- append-only
    id INTEGER PRIMARY KEY,
    version INTEGER NOT NULL REFERENCES agreement_versions(id),
    signer TEXT NOT NULL,           -- the name typed by the person who signed
    part TEXT NOT NULL,             -- their part: child, carer, parent, ...
    recorded_by TEXT NOT NULL,      -- the account that marked it signed
    ts REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS agreement_reminders (  -- each review reminder sent once
    child TEXT NOT NULL,
    review TEXT NOT NULL,           -- the review date it is about (YYYY-MM-DD)
    state TEXT NOT NULL,            -- due, overdue
    ts REAL NOT NULL,
    PRIMARY KEY (child, review, state)
);
CREATE TRIGGER IF NOT EXISTS agreement_versions_no_update BEFORE UPDATE ON agreement_versions
BEGIN SELECT RAISE(ABORT, 'agreement versions are append-only'); END;
CREATE TRIGGER IF NOT EXISTS agreement_versions_no_delete BEFORE DELETE ON agreement_versions
BEGIN SELECT RAISE(ABORT, 'agreement versions are append-only'); END;
CREATE TRIGGER IF NOT EXISTS agreement_signatures_no_update BEFORE UPDATE ON agreement_signatures
BEGIN SELECT RAISE(ABORT, 'signatures are append-only'); END;
CREATE TRIGGER IF NOT EXISTS agreement_signatures_no_delete BEFORE DELETE ON agreement_signatures
BEGIN SELECT RAISE(ABORT, 'signatures are append-only'); END;
"""

# How long dashboard.db keeps each kind of record (README: "What is kept, and for how long").
# Pruned when the table is written, and never shown once older, even before pruning runs.
REVIEW_DAYS = 365  # reviews of blocked requests: export them to the home's recording system
AUDIT_DAYS = 365  # the audit trail
ACCESS_REQUEST_DAYS = 90  # a child's requests for access and their answers


def append_only(table: str, kept_days: int) -> str:
    """Triggers that make a hash-chained table (dashboard.data.hash_chain.FIELDS) append-only: no
    row is changed, and none deleted until it is `kept_days` old (pruning by retention,
    hash_chain.prune)."""
    return (
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table}"
        f" BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;\n"
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table}"
        f" WHEN old.ts >= CAST(strftime('%s', 'now') AS INTEGER) - {kept_days} * 86400"
        f" BEGIN SELECT RAISE(ABORT, '{table} is append-only within its retention'); END;\n"
    )


# Every table, index and trigger of the current version: what a new file is made with, and
# what the last migration brings an older file to.
SCHEMA = (
    CORE
    + DEVICE_RECORDS_AND_PRACTITIONERS
    + AGREEMENTS
    + append_only("audit", AUDIT_DAYS)
    + append_only("reviews", REVIEW_DAYS)
)


def _from_0(db: sqlite3.Connection) -> None:
    """Release 0 -> 1: the audit trail records the request's source address; every review is
    kept (they were one row per request, a later review replacing the earlier one's note: the
    append-only table takes those rows over as they are); indexes on the audit and review
    times, for pruning by retention."""
    have = {row[1] for row in db.execute("PRAGMA table_info(audit)")}
    if "source" not in have:
        db.execute("ALTER TABLE audit ADD COLUMN source TEXT NOT NULL DEFAULT ''")
    reviews = {row[1]: row[5] for row in db.execute("PRAGMA table_info(reviews)")}
    if reviews.get("query_id") == 1:  # query_id was the primary key: one review per request
        db.execute("ALTER TABLE reviews RENAME TO reviews_replaced")
        db.execute(  # the table as version 1 made it (_from_3 adds its chain's columns)
            "CREATE TABLE reviews (id INTEGER PRIMARY KEY, query_id INTEGER NOT NULL,"
            " outcome TEXT NOT NULL, note TEXT NOT NULL DEFAULT '', reviewer TEXT NOT NULL,"
            " ts REAL NOT NULL)"
        )
        db.execute("CREATE INDEX IF NOT EXISTS reviews_query ON reviews(query_id, id)")
        db.execute(
            "INSERT INTO reviews (query_id, outcome, note, reviewer, ts)"
            " SELECT query_id, outcome, note, reviewer, ts FROM reviews_replaced ORDER BY ts"
        )
        db.execute("DROP TABLE reviews_replaced")
    db.execute("CREATE INDEX IF NOT EXISTS audit_ts ON audit(ts)")
    db.execute("CREATE INDEX IF NOT EXISTS reviews_ts ON reviews(ts)")
    for table in ("audit", "reviews"):  # refused every delete: now pruning by retention may
        db.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")  # (_from_3 makes it again)


def _from_1(db: sqlite3.Connection) -> None:
    """1 -> 2: device records and their checklists, practitioners' accounts (new tables; the
    rows a previous release wrote are untouched)."""
    for statement in statements(DEVICE_RECORDS_AND_PRACTITIONERS):
        db.execute(statement)


def _from_2(db: sqlite3.Connection) -> None:
    """2 -> 3: each child's online-safety agreement, its versions, signatures and review
    reminders (dashboard.data.agreements owns these tables)."""
    for statement in statements(AGREEMENTS):
        db.execute(statement)


# Columns earlier releases added to a table on every connection, in no version: a file of any
# version may lack any of them. (table, column, definition as in SCHEMA's CREATE TABLE.)
_COLUMNS_ADDED_BEFORE_4 = (
    ("audit", "source", "TEXT NOT NULL DEFAULT ''"),
    ("audit", "prev", "TEXT NOT NULL DEFAULT ''"),
    ("audit", "hash", "TEXT NOT NULL DEFAULT ''"),
    ("reviews", "prev", "TEXT NOT NULL DEFAULT ''"),
    ("reviews", "hash", "TEXT NOT NULL DEFAULT ''"),
    ("users", "email", "TEXT NOT NULL DEFAULT ''"),
    ("users", "totp_secret", "TEXT NOT NULL DEFAULT ''"),
    ("users", "totp_pending", "TEXT NOT NULL DEFAULT ''"),
    ("users", "totp_last_step", "INTEGER NOT NULL DEFAULT 0"),
    ("sessions", "public_id", "TEXT NOT NULL DEFAULT ''"),
    ("sessions", "remote", "TEXT NOT NULL DEFAULT ''"),
    ("sessions", "agent", "TEXT NOT NULL DEFAULT ''"),
    ("sessions", "verified", "INTEGER NOT NULL DEFAULT 1"),
)


def _from_3(db: sqlite3.Connection) -> None:
    """3 -> 4 (and every older file, after its own steps): until version 4 each connection
    created any table missing and added the columns above, outside the version, so a file may
    lack some: add what is missing, make the append-only triggers, and drop the table
    login_attempts replaced. Rows are kept as they are."""
    for statement in statements(SCHEMA):
        db.execute(statement)
    for table, column, definition in _COLUMNS_ADDED_BEFORE_4:
        have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if column not in have:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
    db.execute("DROP TABLE IF EXISTS login_failures")


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_from_0, _from_1, _from_2, _from_3]
"""MIGRATIONS[n] upgrades version n to n + 1, and the schema version is their number: adding a
step is what raises it, so a file today's release wrote runs the new step on its next open.
Commit a file each release wrote (tests/fixtures; tests/test_db_schema.py opens each). A step
must tolerate what is there already: `_from_1`, `_from_2` and `_from_3` make tables from
today's text, so a file they upgraded may hold a column or table a later step adds; check
PRAGMA table_info / IF NOT EXISTS before adding."""

SCHEMA_VERSION = len(MIGRATIONS)


def migrate(db: sqlite3.Connection) -> int:
    """Create or upgrade the tables under one write lock; returns the version found."""
    db.commit()
    db.execute("BEGIN IMMEDIATE")
    try:
        current = len(MIGRATIONS)
        found = db.execute("PRAGMA user_version").fetchone()[0]
        if found < current:
            fresh = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table'").fetchone()
            if fresh is None:
                for statement in statements(SCHEMA):
                    db.execute(statement)
            else:
                for step in MIGRATIONS[found:]:
                    step(db)
            db.execute(f"PRAGMA user_version = {current}")
        db.commit()
    except BaseException:
        db.rollback()
        raise
    return found


OWNER_ONLY = 0o600


def owner_only(path: Path) -> None:
    """dashboard.db holds password hashes and two-factor secrets: it is made readable by its
    owner only, whatever the umask (the service's is 0007, which would let its group read
    it), and an existing file or its -wal/-shm with wider bits is narrowed. SQLite gives
    the -wal and -shm files the database file's own mode."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, OWNER_ONLY)
        os.close(fd)
    except FileExistsError:
        pass
    for each in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError):
            if stat.S_IMODE(os.stat(each).st_mode) & 0o077:
                os.chmod(each, OWNER_ONLY)


def connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    owner_only(path)
    db = sqlite3.connect(path, timeout=10)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA foreign_keys=ON")
    if db.execute("PRAGMA user_version").fetchone()[0] < len(MIGRATIONS):
        migrate(db)  # a newer file (a release rolled back) is used as it is
    return db


def what_it_holds(path: Path) -> tuple[dict[str, str], int, int]:
    """Accounts (name -> role), audit entries and reviews in a dashboard.db of any version (a
    backup's, before it is restored), read-only: the file is neither created nor upgraded."""
    if not path.exists():
        return {}, 0, 0
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        users = (
            dict(db.execute("SELECT name, role FROM users ORDER BY name"))
            if "users" in tables
            else {}
        )
        count = {
            table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            if table in tables
            else 0
            for table in ("audit", "reviews")
        }
        return users, count["audit"], count["reviews"]
    finally:
        db.close()
