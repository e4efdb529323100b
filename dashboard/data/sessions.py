"""Server-side sessions: started at login, listed and ended by people, and ended by time.

The cookie holds a random token; the table keeps only its SHA-256 (a leaked table opens
nothing). A session ends after SESSION_IDLE without use (a shift) and, however busy, after
SESSION_LIFETIME from login: then the person logs in again. A session whose account has
two-factor waits, unverified and unusable, until the code is given (PENDING_LIFETIME at most).
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from typing import NamedTuple

from dashboard.data.accounts import LIVE, Role, User

SESSION_IDLE = 8 * 3600
SESSION_LIFETIME = 24 * 3600
PENDING_LIFETIME = 5 * 60
MAX_AGENT = 200


class Session(NamedTuple):
    public_id: str
    user_name: str
    remote: str
    agent: str
    created: float
    last_seen: float
    current: bool


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(
    db: sqlite3.Connection, user: User, remote: str, agent: str, verified: bool = True
) -> tuple[str, str]:
    """(cookie token, CSRF token) of a new session."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = time.time()
    # Sessions nobody came back to are removed here rather than kept until someone tries them.
    # So are those of accounts that came to their end (a practitioner's last day passed).
    db.execute(
        "DELETE FROM sessions WHERE created < ? OR last_seen < ?"
        " OR user_id IN (SELECT id FROM users WHERE NOT " + LIVE + ")",
        (now - SESSION_LIFETIME, now - SESSION_IDLE, now),
    )
    db.execute(
        "INSERT INTO sessions (token_hash, user_id, csrf, created, last_seen, public_id, remote,"
        " agent, verified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            _token_hash(token),
            user.id,
            csrf,
            now,
            now,
            secrets.token_hex(8),
            remote,
            agent[:MAX_AGENT],
            int(verified),
        ),
    )
    db.commit()
    return token, csrf


def _row(db: sqlite3.Connection, token: str):
    """The session and its account, unless the account is disabled or has come to its end."""
    return db.execute(
        "SELECT users.id, users.name, users.role, s.csrf, s.created, s.last_seen, s.verified,"
        " s.public_id FROM sessions s JOIN users ON users.id = s.user_id"
        " WHERE s.token_hash = ? AND users.disabled = 0 AND " + LIVE,
        (_token_hash(token), time.time()),
    ).fetchone()


def user_of(db: sqlite3.Connection, token: str) -> tuple[User, str, str] | None:
    """(user, CSRF token, session id) of a live, verified session, or None when it ended
    (logout, idle, too old, ended by someone, account disabled) or still waits for its code."""
    now = time.time()
    row = _row(db, token)
    if row is None:
        end(db, token)  # ended already, or its account's end came: nothing of it stays
        return None
    if not row[6]:
        return None
    if now - row[5] > SESSION_IDLE or now - row[4] > SESSION_LIFETIME:
        end(db, token)
        return None
    db.execute("UPDATE sessions SET last_seen = ? WHERE token_hash = ?", (now, _token_hash(token)))
    db.commit()
    return User(row[0], row[1], Role(row[2])), row[3], row[7]


def pending_user(db: sqlite3.Connection, token: str) -> User | None:
    """The account of a session still waiting for its two-factor code."""
    row = _row(db, token)
    if row is None or row[6] or time.time() - row[4] > PENDING_LIFETIME:
        return None
    return User(row[0], row[1], Role(row[2]))


def end(db: sqlite3.Connection, token: str) -> None:
    db.execute("DELETE FROM sessions WHERE token_hash = ?", (_token_hash(token),))
    db.commit()


def listing(db: sqlite3.Connection, current_id: str, user_id: int | None = None) -> list[Session]:
    """Live sessions, newest first: one account's, or everyone's (user_id None)."""
    now = time.time()
    rows = db.execute(
        "SELECT s.public_id, users.name, s.remote, s.agent, s.created, s.last_seen, s.user_id"
        " FROM sessions s JOIN users ON users.id = s.user_id"
        " WHERE s.verified = 1 AND s.last_seen > ? AND s.created > ? AND "
        + LIVE
        + " ORDER BY s.last_seen DESC",
        (now - SESSION_IDLE, now - SESSION_LIFETIME, now),
    )
    return [
        Session(r[0], r[1], r[2], r[3], r[4], r[5], r[0] == current_id)
        for r in rows
        if user_id is None or r[6] == user_id
    ]


def end_by_id(db: sqlite3.Connection, public_id: str, user_id: int | None = None) -> bool:
    """End one session by its shown id (only that account's when user_id is given)."""
    if user_id is None:
        cursor = db.execute("DELETE FROM sessions WHERE public_id = ?", (public_id,))
    else:
        cursor = db.execute(
            "DELETE FROM sessions WHERE public_id = ? AND user_id = ?", (public_id, user_id)
        )
    db.commit()
    return cursor.rowcount > 0


def end_others(db: sqlite3.Connection, user_id: int, keep_id: str) -> int:
    """Every session of the account but this one (after a password change, or on request)."""
    cursor = db.execute(
        "DELETE FROM sessions WHERE user_id = ? AND public_id != ?", (user_id, keep_id)
    )
    db.commit()
    return cursor.rowcount


def end_all(db: sqlite3.Connection) -> None:
    """Everybody signed out (a restored box keeps no session of the old one)."""
    db.execute("DELETE FROM sessions")
    db.commit()
