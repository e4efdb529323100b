"""Reminders of children's online-safety agreements coming up for review: a review date within
7 days, or passed, becomes an event in filterd's event log (so the alert channels, digests and
a later central view read it like any other), once per child, review date and state."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from dashboard.data import agreements
from filterd.db.events import EventLog
from filterd.events.kinds import AGREEMENT_REVIEW_DUE, AGREEMENT_REVIEW_OVERDUE, Kind
from filterd.rules.model import Rules

KIND_OF = {"due": AGREEMENT_REVIEW_DUE, "overdue": AGREEMENT_REVIEW_OVERDUE}


def remind(
    db: sqlite3.Connection,
    rules: Rules | None,
    events: Path,
    now: float,
    tz: ZoneInfo,
    reaches_someone: Callable[[Kind], bool] = lambda kind: True,
) -> int:
    """Write the review events not written before; how many. Nothing before filterd has made
    its event log, nor while nobody would receive it (no account with an email address that
    takes it, no webhook): the reminder is then written on a later pass, once someone would."""
    if rules is None or not events.exists():
        return 0
    written = 0
    for child in agreements.children(db):
        profile = rules.children.get(child)
        if profile is None:
            continue
        found = agreements.status(db, child, profile, now, tz)
        if found.review is None or found.review_state not in KIND_OF:
            continue
        if not reaches_someone(KIND_OF[found.review_state]):
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            if agreements.remind_once(db, child, found.review, found.review_state, now):
                log = EventLog(events, "dashboard")
                try:
                    data = {"review": found.review.isoformat()}
                    log.append(KIND_OF[found.review_state], child=child, data=data, ts=now)
                finally:
                    log.close()
                written += 1
            db.commit()  # after the event: a failure leaves the reminder to the next pass
        except BaseException:
            db.rollback()
            raise
    return written
