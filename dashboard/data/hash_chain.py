"""Hash chains over append-only tables (the audit trail, reviews): a changed or deleted row
shows.

Each row stores `prev` (the hash of the row before it) and `hash` = SHA-256 of prev and the
row's own fields. Changing a row breaks its hash; deleting one breaks the next row's `prev`.
Triggers (dashboard.data.db.append_only) refuse UPDATE and DELETE through SQLite, so only
someone editing the file by other means can change history, and then Health and the report
say so. Rows written before the
chain began (hash '') are counted, not checked.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

# The fields each chained table hashes, in order (never reorder: old hashes depend on it).
FIELDS: dict[str, tuple[str, ...]] = {
    "audit": ("ts", "user", "action", "target", "detail", "source"),
    "reviews": ("query_id", "outcome", "note", "reviewer", "ts"),
}
SEPARATOR = "\x1f"  # a unit separator: stored text is escaped, so it never holds one


def prune(db: sqlite3.Connection, table: str, before: float) -> None:
    """Delete the rows older than `before` (past their retention), oldest first; the hash of
    the last one deleted is kept as the chain's anchor, so the chain still verifies from the
    first row kept, and a row deleted any other way still shows. The caller commits."""
    last = db.execute(
        f"SELECT id, hash FROM {table} WHERE ts < ? ORDER BY id DESC LIMIT 1", (before,)
    ).fetchone()
    if last is None:
        return
    try:
        db.execute(f"DELETE FROM {table} WHERE id <= ?", (last[0],))
    except sqlite3.IntegrityError:  # a younger row among them (the clock was moved): keep all
        return
    if last[1]:
        db.execute(
            "INSERT OR REPLACE INTO chain_anchors (name, prev) VALUES (?, ?)", (table, last[1])
        )


def _anchor(db: sqlite3.Connection, table: str) -> str:
    """The hash the first kept row chains to: '' until rows were pruned."""
    try:
        row = db.execute("SELECT prev FROM chain_anchors WHERE name = ?", (table,)).fetchone()
    except sqlite3.OperationalError:
        return ""
    return row[0] if row else ""


def digest(prev: str, values: Sequence[Any]) -> str:
    text = SEPARATOR.join([prev, *(repr(v) if isinstance(v, float) else str(v) for v in values)])
    return hashlib.sha256(text.encode()).hexdigest()


def append(db: sqlite3.Connection, table: str, rows: Iterable[Sequence[Any]]) -> None:
    """Insert rows (values in FIELDS order) chained to the last row; the caller commits.

    The write lock is taken before the last hash is read, so two writers at once cannot both
    chain to the same row."""
    fields = FIELDS[table]
    if not db.in_transaction:
        db.execute("BEGIN IMMEDIATE")
    last = db.execute(f"SELECT hash FROM {table} ORDER BY id DESC LIMIT 1").fetchone()
    prev = last[0] if last else ""
    columns = ", ".join((*fields, "prev", "hash"))
    marks = ", ".join("?" * (len(fields) + 2))
    for values in rows:
        chained = digest(prev, values)
        db.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", (*values, prev, chained))
        prev = chained


class Verdict(NamedTuple):
    intact: bool
    checked: int  # rows whose hash was checked
    unchained: int  # rows from before the chain began
    broken_at: int | None  # the id of the first row that does not fit (None when intact)
    broken_ts: float | None = None  # that row's time, for people
    head: str = ""  # the newest row's hash: the record's fingerprint, as digests quote it
    missing_since: float | None = None  # a witnessed row is gone: rows from then were deleted


class Witness(NamedTuple):
    """A row's id, hash and time as seen earlier and kept outside this database (filterd's
    event log, the digests): deleting the newest rows, or rewriting the whole chain, leaves
    nothing for the chain itself to show, but the witnessed row is then gone or different."""

    id: int
    hash: str
    ts: float


def head(db: sqlite3.Connection, table: str) -> Witness | None:
    """The newest row as a witness (None when the table has no chained row)."""
    row = db.execute(
        f"SELECT id, hash, ts FROM {table} WHERE hash != '' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return None if row is None else Witness(int(row[0]), str(row[1]), float(row[2]))


def verify(
    db: sqlite3.Connection,
    table: str,
    witnesses: Sequence[Witness] = (),
    kept_since: float = 0.0,
) -> Verdict:
    """Walk the chain in id order; the first row that does not fit is reported. Every witness
    younger than `kept_since` (so not pruned by retention) must still be there, unchanged:
    a row gone means rows were deleted, a different hash that the chain was written again."""
    fields = FIELDS[table]
    rows = db.execute(f"SELECT id, {', '.join(fields)}, prev, hash FROM {table} ORDER BY id")
    prev = _anchor(db, table)
    checked = unchained = 0
    started = False
    seen: dict[int, str] = {}
    for row in rows:
        row_id, values, row_prev, row_hash = row[0], row[1:-2], row[-2], row[-1]
        if not row_hash and not started:
            unchained += 1
            continue
        started = True
        ts = values[fields.index("ts")]
        if row_prev != prev or digest(row_prev, values) != row_hash:
            return Verdict(False, checked, unchained, row_id, ts if isinstance(ts, float) else None)
        seen[row_id] = row_hash
        prev = row_hash
        checked += 1
    for witness in sorted(witnesses, key=lambda w: w.id):
        if witness.ts < kept_since:
            continue  # pruned by retention, as it should be
        found = seen.get(witness.id)
        if found is None:
            return Verdict(False, checked, unchained, witness.id, witness.ts, prev, witness.ts)
        if found != witness.hash:  # the whole chain was written again from here
            return Verdict(False, checked, unchained, witness.id, witness.ts, prev)
    return Verdict(True, checked, unchained, None, None, prev)
