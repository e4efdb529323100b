"""The audit trail: who changed which rule, paused, gave extra time, reviewed or exported, who
signed in, failed to or was refused, and from which address.

Append-only: rows are added, never changed (triggers refuse UPDATE, and DELETE until a row is
past AUDIT_DAYS) and each is hash-chained to the one before (dashboard.data.hash_chain), so an entry
changed or deleted by editing the file shows on Health; rows past the retention are pruned as
rows are added (the chain keeps its anchor) and never shown. Free text is bounded and stored
escaped (no control
or direction characters), so a hostile name or note cannot rewrite how the trail reads.
"""

from __future__ import annotations

import sqlite3
import time
from contextvars import ContextVar
from typing import NamedTuple

from dashboard.data import hash_chain
from dashboard.data.db import AUDIT_DAYS
from filterd.rules.presets import age_words
from filterd.text.people import escaped

# The address the request being handled came from: set by the web layer for each request, so
# every row records it without each caller passing it along.
SOURCE: ContextVar[str] = ContextVar("audit_source", default="")
MAX_FIELD = 1000  # characters kept of a target or detail
PAGE_SIZE = 100
REPEAT_WINDOW = 60.0  # seconds: a repeated refusal from the same place is recorded once


RULES_SAVE = "rules.save"  # the dashboard saved the rules (a page or the API)
RULES_HAND_EDIT = "rules.hand_edit"  # the rules file was changed outside the dashboard
CHILD_ADD = "child.add"  # target: the child's id; detail: the age band ("age 9 to 12")
CHILD_REMOVE = "child.remove"  # a child left the home; detail begins with their name
DEVICE_ADD = "device.add"  # target: the device; detail: "<owner> <the save's changes>"
DEVICE_ASSIGN = "device.assign"  # as device.add, or "visitor [changes]"
DEVICE_REMOVE = "device.remove"  # detail: "<device>[; <the save's changes>]"
DEVICES_UNKNOWN = "devices.unknown"  # target: the new choice; detail: the one before
SETUP_TIMEZONE = "setup.timezone"  # target: the new zone; detail: the one before
# The audit actions that change rules: what the digest, the evidence report and agreements
# list as rule changes (quick actions and answered requests are the day's exceptions).
RULE_ACTIONS = (
    RULES_SAVE,
    RULES_HAND_EDIT,
    CHILD_ADD,
    CHILD_REMOVE,
    DEVICE_ADD,
    DEVICE_ASSIGN,
    DEVICE_REMOVE,
    DEVICES_UNKNOWN,
    SETUP_TIMEZONE,
)
NO_CHANGE = "no change"  # what a save that changed nothing records (dashboard.actions)


class RuleChange(NamedTuple):
    id: int
    ts: float
    user: str
    target: str  # a child id, "(all)", "rules file", a device or a choice
    detail: str  # what changed, in words (`change_words`)
    action: str = RULES_SAVE


class AuditEntry(NamedTuple):
    ts: float
    user: str
    action: str
    target: str
    detail: str
    source: str  # the client address of the request ('' for commands run on the box)


def _bounded(text: str, limit: int = MAX_FIELD) -> str:
    text = escaped(str(text))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def record(
    db: sqlite3.Connection, user: str, action: str, target: str = "", detail: str = ""
) -> None:
    row = (
        time.time(),
        _bounded(user, 100),
        _bounded(action, 100),
        _bounded(target),
        _bounded(detail),
        SOURCE.get(),
    )
    hash_chain.append(db, "audit", [row])  # hash-chained: a changed or deleted entry shows
    hash_chain.prune(db, "audit", _kept())
    db.commit()


def record_unless_repeated(
    db: sqlite3.Connection,
    user: str,
    action: str,
    target: str = "",
    detail: str = "",
    within: float = REPEAT_WINDOW,
) -> None:
    """Record, unless the very same row (user, action, target, detail and source) was
    recorded within the last `within` seconds: a flood of one refused try is one row a
    minute, not a full disk; a different refusal is still recorded."""
    row = db.execute(
        "SELECT 1 FROM audit WHERE ts > ? AND action = ? AND user = ? AND target = ?"
        " AND detail = ? AND source = ? LIMIT 1",
        (time.time() - within, _bounded(action, 100), _bounded(user, 100), _bounded(target),
         _bounded(detail), SOURCE.get()),
    ).fetchone()  # fmt: skip
    if row is None:
        record(db, user, action, target, detail)


def _kept() -> float:
    """The oldest time still within the retention."""
    return time.time() - AUDIT_DAYS * 86_400


_COLUMNS = "ts, user, action, target, detail, source"


def recent(db: sqlite3.Connection, limit: int = 200) -> list[AuditEntry]:
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM audit WHERE ts >= ? ORDER BY id DESC LIMIT ?", (_kept(), limit)
    )
    return [AuditEntry(*row) for row in rows]


def count(db: sqlite3.Connection) -> int:
    return db.execute("SELECT count(*) FROM audit WHERE ts >= ?", (_kept(),)).fetchone()[0]


def page(db: sqlite3.Connection, number: int, size: int = PAGE_SIZE) -> list[AuditEntry]:
    """One page of the trail, newest first; page 1 is the newest."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM audit WHERE ts >= ? ORDER BY id DESC LIMIT ? OFFSET ?",
        (_kept(), size, (number - 1) * size),
    )
    return [AuditEntry(*row) for row in rows]


def rule_changes(
    db: sqlite3.Connection,
    start: float,
    end: float,
    *,
    by_id: bool = False,
    names: dict[str, str] | None = None,
) -> list[RuleChange]:
    """Every rules change recorded from `start` (inclusive) to `end` (exclusive), oldest first:
    the one query the digest, the evidence report and agreements read rule changes with. With
    `by_id`, the bounds are audit ids instead: after `start`, up to and including `end`."""
    where = "id > ? AND id <= ?" if by_id else "ts >= ? AND ts < ?"
    rows = db.execute(
        f"SELECT id, ts, user, action, target, detail FROM audit WHERE {where}"
        f" AND action IN ({', '.join('?' * len(RULE_ACTIONS))}) ORDER BY id",
        (start, end, *RULE_ACTIONS),
    )
    found = []
    for row_id, ts, user, action, target, detail in rows:
        words = change_words(action, target, detail, names or {})
        if words is not None:
            found.append(RuleChange(row_id, ts, user, target, words, action))
    return found


def change_words(action: str, target: str, detail: str, names: dict[str, str]) -> str | None:
    """A rule-changing audit entry in plain words; None for one that changed nothing (a save
    with no change). `names`: child ids to their names, for entries that store only the id."""
    if action in (RULES_SAVE, RULES_HAND_EDIT):
        return None if detail == NO_CHANGE else detail
    if action == CHILD_ADD:
        band = detail if detail.startswith("age ") else age_words(detail)  # older: "9_12"
        return f"{names.get(target, target)}: child: none -> added ({band})"
    if action == CHILD_REMOVE:
        return f"child left the home: {detail}"
    if action in (DEVICE_ADD, DEVICE_ASSIGN):
        owner, _, changes = detail.partition(" ")
        if owner == "visitor":
            return "a device marked as a visitor's" + (f": {changes}" if changes else "")
        if changes == NO_CHANGE:
            return None
        return changes or f"device given to {names.get(owner, owner)}"
    if action == DEVICE_REMOVE:
        return f"device removed: {detail}"
    if action == DEVICES_UNKNOWN:
        return f"devices nobody has assigned: {detail or 'not set'} -> {target}"
    if action == SETUP_TIMEZONE:
        return f"time zone: {detail or 'not set'} -> {target}"
    return detail
