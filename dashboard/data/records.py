"""The hash-chained records (the audit trail, the reviews of blocked requests), checked as
Health, the digests and the evidence report show them.

A chain shows a changed or deleted row, but not the newest rows deleted, nor the whole chain
written again by someone with the file. So the dashboard keeps witnesses outside dashboard.db:
whenever a record's newest row changes, its id, hash and time go into filterd's append-only
event log as `records.witnessed` (and out with the event stream and the digests). A witnessed
row that is gone, or different, while its retention has not ended, breaks the record.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import NamedTuple

from dashboard.data import hash_chain
from dashboard.data.db import AUDIT_DAYS, REVIEW_DAYS
from filterd.db.events import EventLog
from filterd.db.read import FilterdReader
from filterd.events.kinds import RECORDS_WITNESSED


class Record(NamedTuple):
    table: str
    label: str  # as people read it
    days: int  # its retention


RECORDS = (
    Record("audit", "Audit trail", AUDIT_DAYS),
    Record("reviews", "Reviews of blocked requests", REVIEW_DAYS),
)


def heads(db: sqlite3.Connection) -> dict[str, hash_chain.Witness]:
    """Each record's newest chained row."""
    found = {}
    for record in RECORDS:
        head = hash_chain.head(db, record.table)
        if head is not None:
            found[record.table] = head
    return found


def witnessed(reader: FilterdReader | None) -> dict[str, list[hash_chain.Witness]]:
    """Every witness kept in filterd's event log, by record (none before the first)."""
    found: dict[str, list[hash_chain.Witness]] = {record.table: [] for record in RECORDS}
    if reader is None:
        return found
    for event in reader.events_of((RECORDS_WITNESSED.name,)):
        for table, seen in event.data.items():
            try:
                witness = hash_chain.Witness(int(seen["id"]), str(seen["hash"]), float(seen["ts"]))
            except (KeyError, TypeError, ValueError):
                continue
            found.setdefault(table, []).append(witness)
    return found


def check(
    db: sqlite3.Connection, reader: FilterdReader | None, now: float | None = None
) -> list[tuple[str, hash_chain.Verdict]]:
    """Each record's verdict, against every witness still inside its retention."""
    now = time.time() if now is None else now
    witnesses = witnessed(reader)
    return [
        (
            record.label,
            hash_chain.verify(
                db, record.table, witnesses.get(record.table, []), now - record.days * 86_400
            ),
        )
        for record in RECORDS
    ]


def witness(
    db: sqlite3.Connection,
    database: Path,
    known: dict[str, hash_chain.Witness],
    reader: FilterdReader | None = None,
) -> bool:
    """Put the records' newest rows in filterd's event log when they changed since `known`
    (updated in place); whether anything was written. Nothing before filterd made its log,
    and nothing while a record no longer fits what was witnessed before: a head after rows
    were deleted or rewritten is never witnessed, so the damage keeps showing."""
    now = heads(db)
    if now == known or not database.exists():
        return False
    if reader is not None:
        if any(not verdict.intact for _, verdict in check(db, reader)):
            return False
        last = {t: ws[-1] for t, ws in witnessed(reader).items() if ws}
        if all(now.get(t) == w for t, w in last.items()) and set(now) <= set(last):
            known.clear()
            known.update(now)
            return False  # already witnessed (a restart): nothing new to say
    log = EventLog(database, "dashboard")
    try:
        log.append(RECORDS_WITNESSED, data={t: w._asdict() for t, w in now.items()})
    finally:
        log.close()
    known.clear()
    known.update(now)
    return True


def in_words(label: str, verdict: hash_chain.Verdict) -> str:
    """One line for a digest or the report; the fingerprint lets a reader of an old digest
    see later that nothing recorded before it was removed."""
    if verdict.intact:
        mark = f", fingerprint {verdict.head[:12]}" if verdict.head else ""
        return f"{label}: intact ({verdict.checked} entries{mark})"
    if verdict.missing_since is not None:
        return f"{label}: BROKEN: entries were deleted outside the dashboard"
    return f"{label}: BROKEN: changed outside the dashboard"
