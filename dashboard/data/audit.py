"""The audit trail: who changed which rule, paused, gave extra time, reviewed or exported."""

from __future__ import annotations

import sqlite3
import time
from typing import NamedTuple


class AuditEntry(NamedTuple):
    ts: float
    user: str
    action: str
    target: str
    detail: str


def record(
    db: sqlite3.Connection, user: str, action: str, target: str = "", detail: str = ""
) -> None:
    db.execute(
        "INSERT INTO audit (ts, user, action, target, detail) VALUES (?, ?, ?, ?, ?)",
        (time.time(), user, action, target, detail),
    )
    db.commit()


def recent(db: sqlite3.Connection, limit: int = 200) -> list[AuditEntry]:
    rows = db.execute(
        "SELECT ts, user, action, target, detail FROM audit ORDER BY id DESC LIMIT ?", (limit,)
    )
    return [AuditEntry(*row) for row in rows]
