"""Delivery state in dashboard.db: which events were read, which messages wait, which went.

Reading events and queueing their messages happen in one transaction with the cursor (the last
event id read), so a restart neither loses an event nor queues it twice. A message is marked
`sending` before it is handed to the server and `sent` after; one left `sending` by a crash is
sent again with the same Message-ID / delivery id, so the receiving side can tell it is the same
message. A failed send is retried with growing waits, which a restart keeps.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

BACKOFF = (5.0, 15.0, 60.0, 300.0, 900.0)  # seconds before each retry; then every 15 min


class Route(NamedTuple):
    channel: str  # email, webhook
    recipient: str  # address or url


class Queued(NamedTuple):
    id: int
    uid: str
    channel: str
    recipient: str
    count: int
    content: dict[str, Any]
    held: bool
    attempts: int
    window_start: float
    follow_up: bool = False  # an earlier message of its group and window went before it


def cursor(db: sqlite3.Connection) -> int | None:
    """The last event id read, or None before the notifier first ran."""
    row = db.execute("SELECT last_event FROM alert_cursor WHERE one = 1").fetchone()
    return None if row is None else int(row[0])


def set_cursor(db: sqlite3.Connection, last_event: int) -> None:
    db.execute(
        "INSERT INTO alert_cursor (one, last_event) VALUES (1, ?)"
        " ON CONFLICT (one) DO UPDATE SET last_event = excluded.last_event",
        (last_event,),
    )


def queue(
    db: sqlite3.Connection,
    route: Route,
    key: str,
    event_id: int,
    ts: float,
    content: dict[str, Any],
    window: float,
    hold_until: float | None,
) -> None:
    """Add one event's message for one recipient, grouped: the first event of a window goes at
    once (or at hold_until in quiet hours); later ones in the window join one follow-up message
    with a count, sent when the window closes."""
    last = db.execute(
        "SELECT id, state, window_start, count FROM alerts"
        " WHERE channel = ? AND recipient = ? AND group_key = ? ORDER BY id DESC LIMIT 1",
        (route.channel, route.recipient, key),
    ).fetchone()
    # A window that starts in the future (the wall clock stepped back since) is closed: the
    # event goes at once rather than as a follow-up due hours from now.
    if last is not None and 0 <= ts - last[2] < window:
        alert_id, state, window_start, _ = last
        if state == "pending":
            db.execute(
                "UPDATE alerts SET count = count + 1, last_event = ? WHERE id = ?",
                (event_id, alert_id),
            )
            return
        due = window_start + window  # the follow-up waits for the window to close
        if hold_until is not None:
            due = max(due, hold_until)
        _insert(db, route, key, window_start, event_id, content, due, hold_until is not None)
        return
    due = ts if hold_until is None else hold_until
    _insert(db, route, key, ts, event_id, content, due, hold_until is not None)


def _insert(
    db: sqlite3.Connection,
    route: Route,
    key: str,
    window_start: float,
    event_id: int,
    content: dict[str, Any],
    due: float,
    held: bool,
) -> None:
    db.execute(
        "INSERT INTO alerts (uid, channel, recipient, group_key, window_start, first_event,"
        " last_event, count, content, due, held, state, next_try)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, 'pending', ?)",
        (
            str(uuid.uuid4()),
            route.channel,
            route.recipient,
            key,
            window_start,
            event_id,
            event_id,
            json.dumps(content),
            due,
            int(held),
            due,
        ),
    )


def due(db: sqlite3.Connection, now: float) -> list[Queued]:
    """Messages to send now (oldest first), including any a crash left mid-send."""
    rows = db.execute(
        "SELECT id, uid, channel, recipient, count, content, held, attempts, window_start,"
        " EXISTS (SELECT 1 FROM alerts AS earlier WHERE earlier.channel = alerts.channel"
        "  AND earlier.recipient = alerts.recipient AND earlier.group_key = alerts.group_key"
        "  AND earlier.window_start = alerts.window_start AND earlier.id < alerts.id)"
        " FROM alerts WHERE state != 'sent' AND next_try <= ? ORDER BY id",
        (now,),
    ).fetchall()
    return [
        Queued(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), bool(r[6]), r[7], r[8], bool(r[9]))
        for r in rows
    ]


def mark_sending(db: sqlite3.Connection, ids: Sequence[int]) -> None:
    db.executemany("UPDATE alerts SET state = 'sending' WHERE id = ?", [(i,) for i in ids])
    db.commit()


def mark_sent(db: sqlite3.Connection, ids: Sequence[int], now: float) -> None:
    db.executemany(
        "UPDATE alerts SET state = 'sent', sent = ?, last_error = '' WHERE id = ?",
        [(now, i) for i in ids],
    )
    db.commit()


def mark_failed(db: sqlite3.Connection, ids: Sequence[int], now: float, error: str) -> None:
    """Back to pending with the next try further off each time."""
    for alert_id in ids:
        attempts = db.execute("SELECT attempts FROM alerts WHERE id = ?", (alert_id,)).fetchone()[0]
        wait = BACKOFF[min(attempts, len(BACKOFF) - 1)]
        db.execute(
            "UPDATE alerts SET state = 'pending', attempts = attempts + 1, next_try = ?,"
            " last_error = ? WHERE id = ?",
            (now + wait, error[:500], alert_id),
        )
    db.commit()


def quiet_until(ts: float, tz: ZoneInfo, start: int | None, end: int) -> float | None:
    """When quiet hours that `ts` falls in end (home time), or None outside them."""
    if start is None or start == end:
        return None
    moment = datetime.fromtimestamp(ts, tz)
    minute = moment.hour * 60 + moment.minute
    inside = start <= minute or minute < end if start > end else start <= minute < end
    if not inside:
        return None
    day = moment.date() if minute < end else moment.date() + timedelta(days=1)
    ending = datetime(day.year, day.month, day.day, end // 60, end % 60, tzinfo=tz)
    return ending.timestamp()


URGENT_GROUPS = ("block.illegal|%", "block.high_risk|%")  # group_key starts with the kind


class Stuck(NamedTuple):
    """Alerts that are not going out (Health says so): what failed and since when."""

    waiting: int  # messages not sent after at least one failed try
    since: float  # when the oldest of them was due
    failures: tuple[tuple[str, str], ...]  # (channel, its latest error), email then webhook
    urgent_since: float | None  # when the oldest unsent high-risk or illegal alert was due


def stuck(db: sqlite3.Connection) -> Stuck | None:
    """None while every message due has gone (or none has failed yet)."""
    waiting, since = db.execute(
        "SELECT count(*), min(due) FROM alerts WHERE state != 'sent' AND attempts > 0"
    ).fetchone()
    if not waiting:
        return None
    failures = []
    for channel in ("email", "webhook"):  # each has its own trouble (both may fail at once)
        row = db.execute(
            "SELECT last_error FROM alerts WHERE state != 'sent' AND attempts > 0"
            " AND channel = ? ORDER BY next_try DESC, id DESC LIMIT 1",
            (channel,),
        ).fetchone()
        if row is not None:
            failures.append((channel, row[0]))
    (urgent,) = db.execute(
        "SELECT min(due) FROM alerts WHERE state != 'sent'"
        " AND (group_key LIKE ? OR group_key LIKE ?)",
        URGENT_GROUPS,
    ).fetchone()
    return Stuck(int(waiting), float(since), tuple(failures), urgent)


def digest_queued(db: sqlite3.Connection, period: str) -> bool:
    """Whether the digest of this period (its key) was queued already."""
    return (
        db.execute("SELECT 1 FROM digests_sent WHERE period = ?", (period,)).fetchone() is not None
    )


def record_digest(db: sqlite3.Connection, period: str, now: float) -> None:
    """This period's digest is queued (committed with its message by the caller)."""
    db.execute("INSERT INTO digests_sent (period, queued) VALUES (?, ?)", (period, now))
