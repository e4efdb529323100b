"""Children's requests for access to a blocked site, in dashboard.db (schema: dashboard.data.db).

A request is made from the block page with no login, so it is capped per device address
(a few an hour) and its message is bounded text, shown escaped. A carer approves or declines
it once; the child's device sees the answer."""

from __future__ import annotations

import sqlite3
from typing import NamedTuple

from dashboard.data.db import ACCESS_REQUEST_DAYS

PER_HOUR = 3  # requests one device may make in an hour
MAX_MESSAGE = 200  # characters of the child's message
WAITING, APPROVED, DECLINED = "waiting", "approved", "declined"


class AccessRequest(NamedTuple):
    id: int
    ts: float
    child: str
    device: str
    site: str
    reason: str
    message: str
    state: str
    answer: str
    decided_by: str
    decided: float | None


_COLUMNS = "id, ts, child, device, site, reason, message, state, answer, decided_by, decided"


def recent_from(db: sqlite3.Connection, client: str, now: float) -> int:
    """How many requests this device address made in the last hour."""
    row = db.execute(
        "SELECT count(*) FROM access_requests WHERE client = ? AND ts > ?", (client, now - 3600)
    ).fetchone()
    return int(row[0])


def add(
    db: sqlite3.Connection,
    now: float,
    client: str,
    child: str,
    device: str,
    site: str,
    reason: str,
    message: str,
) -> int:
    """Store a request (the caller has checked the cap and the message); old ones are pruned."""
    db.execute("DELETE FROM access_requests WHERE ts < ?", (now - ACCESS_REQUEST_DAYS * 86400,))
    cursor = db.execute(
        "INSERT INTO access_requests (ts, client, child, device, site, reason, message)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (now, client, child, device, site, reason, message),
    )
    db.commit()
    return int(cursor.lastrowid or 0)


def waiting(db: sqlite3.Connection, now: float) -> list[AccessRequest]:
    """Requests no one has answered yet, oldest first; a device asking again for one site is
    one request (the latest, with its message), which `decide` answers for all of them."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM access_requests WHERE state = ? AND ts >= ? ORDER BY ts",
        (WAITING, now - ACCESS_REQUEST_DAYS * 86400),
    )
    latest: dict[tuple, AccessRequest] = {}
    for row in rows:
        request = AccessRequest(*row)
        key = (request.child, request.device, request.site)
        latest.pop(key, None)  # kept in the order of the latest ask
        latest[key] = request
    return list(latest.values())


def of_child(db: sqlite3.Connection, child: str, now: float, limit: int = 20) -> list:
    """A child's own requests, newest first (their page shows them): asking again for a site
    with the same answer (or none yet) is shown once."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM access_requests WHERE child = ? AND ts >= ?"
        " ORDER BY ts DESC LIMIT ?",
        (child, now - ACCESS_REQUEST_DAYS * 86400, limit),
    )
    shown: list[AccessRequest] = []
    seen: set[tuple] = set()
    for row in rows:
        request = AccessRequest(*row)
        key = (request.site, request.state, request.answer)
        if key not in seen:
            seen.add(key)
            shown.append(request)
    return shown


def made_between(db: sqlite3.Connection, start: float, end: float) -> list[AccessRequest]:
    """Requests made in [start, end), oldest first, with their answers (digests, reports)."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM access_requests WHERE ts >= ? AND ts < ? ORDER BY ts",
        (start, end),
    )
    return [AccessRequest(*row) for row in rows]


def get(db: sqlite3.Connection, request_id: int) -> AccessRequest | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM access_requests WHERE id = ?", (request_id,))
    found = row.fetchone()
    return None if found is None else AccessRequest(*found)


def answer_request(
    db: sqlite3.Connection, request_id: int, state: str, answer: str, by: str, now: float
) -> bool:
    """Answer a waiting request once; False when it was already answered (or is gone). The
    same device's other waiting requests for the same site get the same answer."""
    cursor = db.execute(
        "UPDATE access_requests SET state = ?, answer = ?, decided_by = ?, decided = ?"
        " WHERE id = ? AND state = ?",
        (state, answer, by, now, request_id, WAITING),
    )
    if cursor.rowcount == 1:
        db.execute(
            "UPDATE access_requests SET state = ?, answer = ?, decided_by = ?, decided = ?"
            " WHERE state = ? AND id != ? AND (client, child, site) ="
            " (SELECT client, child, site FROM access_requests WHERE id = ?)",
            (state, answer, by, now, WAITING, request_id, request_id),
        )
    db.commit()
    return cursor.rowcount == 1
