"""Accounts and roles: argon2id password hashes, login throttling, server-side sessions.

Roles see only what they need (README, "Dashboard"): an administrator does everything; a carer
changes rules and takes quick actions; a safeguarding lead reviews blocked requests, exports
and reads the audit trail; a viewer reads. Checks are made on the server for every request.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
import sqlite3
import time
from pathlib import Path
from typing import NamedTuple

from dashboard.data import passwords, setup_code, throttle
from dashboard.data.throttle import Refusal

SESSION_IDLE = 8 * 3600  # seconds of inactivity before a session ends (a shift)


class Role(enum.StrEnum):
    ADMINISTRATOR = "administrator"
    CARER = "carer"
    SAFEGUARDING_LEAD = "safeguarding_lead"
    VIEWER = "viewer"


class Permission(enum.StrEnum):
    VIEW = "view"  # activity, children, devices
    EDIT_RULES = "edit_rules"  # rules editor and quick actions
    EDIT_HOME = "edit_home"  # home-wide rules: time zone, devices nobody listed
    REVIEW = "review"  # blocked-request review and export
    AUDIT = "audit"  # the audit trail


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMINISTRATOR: frozenset(Permission),
    Role.CARER: frozenset({Permission.VIEW, Permission.EDIT_RULES}),
    Role.SAFEGUARDING_LEAD: frozenset({Permission.VIEW, Permission.REVIEW, Permission.AUDIT}),
    Role.VIEWER: frozenset({Permission.VIEW}),
}


class User(NamedTuple):
    id: int
    name: str
    role: Role

    def may(self, permission: Permission) -> bool:
        return permission in GRANTS[self.role]


class AccountError(Exception):
    """A refused account change; the message is shown to the person."""


class PasswordRefused(AccountError):
    """The new password is too weak; the message goes next to the password field."""


class Throttled(Exception):
    """Too many failed tries lately (per source, or overall from unknown devices)."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal


def has_users(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None


def add_user(db: sqlite3.Connection, name: str, role: Role, password: str) -> User:
    name = name.strip()
    if not name or len(name) > 64 or not name.isprintable():
        raise AccountError("A name is 1 to 64 printable characters.")
    problem = passwords.weakness(password, name)
    if problem:
        raise PasswordRefused(problem)
    try:
        cursor = db.execute(
            "INSERT INTO users (name, role, password_hash, created) VALUES (?, ?, ?, ?)",
            (name, role.value, passwords.hash_password(password), time.time()),
        )
    except sqlite3.IntegrityError:
        raise AccountError(f"There is already an account called {name}.") from None
    db.commit()
    return User(int(cursor.lastrowid or 0), name, role)


def add_first_administrator(db: sqlite3.Connection, name: str, password: str) -> User:
    """The first account, only while there is none (two racing first-run forms make one)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        if has_users(db):
            raise AccountError("The dashboard is already set up: log in instead.")
        return add_user(db, name, Role.ADMINISTRATOR, password)
    finally:
        if db.in_transaction:
            db.rollback()


def authenticate(
    db: sqlite3.Connection, name: str, password: str, remote: str, device_token: str = ""
) -> User | None:
    """The user, or None for a wrong name or password (or a disabled account).

    Raises Throttled before any hashing when this source (or, from an unknown device, everyone)
    failed too often lately, and passwords.Busy when hashing is saturated by a flood.
    """
    name = name.strip()  # one account however the name is padded
    now = time.time()
    row = db.execute(
        "SELECT id, name, role, password_hash FROM users WHERE name = ? AND disabled = 0",
        (name,),
    ).fetchone()
    device = throttle.known_device(db, device_token, row[0] if row else None, now)
    reservation = throttle.reserve(db, "password", name, remote, device, now)
    if isinstance(reservation, Refusal):
        raise Throttled(reservation)
    try:
        ok = passwords.verify(row[3] if row else None, password)
    except passwords.Busy:
        throttle.release(db, reservation)
        raise
    if not ok or row is None:
        return None
    throttle.release(db, reservation)
    if passwords.needs_rehash(row[3]):  # made with older, costlier parameters
        db.execute(
            "UPDATE users SET password_hash = ? WHERE id = ?",
            (passwords.hash_password(password), row[0]),
        )
        db.commit()
    return User(row[0], row[1], Role(row[2]))


def check_setup_code(db: sqlite3.Connection, database: Path, typed: str, remote: str) -> bool:
    """The one-time set-up code, with wrong codes throttled like wrong passwords."""
    reservation = throttle.reserve(db, "setup-code", "", remote, "", time.time())
    if isinstance(reservation, Refusal):
        raise Throttled(reservation)
    if setup_code.matches(database, typed):
        throttle.release(db, reservation)
        return True
    return False


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(db: sqlite3.Connection, user: User) -> tuple[str, str]:
    """(cookie token, CSRF token) of a new session."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = time.time()
    db.execute(
        "INSERT INTO sessions (token_hash, user_id, csrf, created, last_seen)"
        " VALUES (?, ?, ?, ?, ?)",
        (_token_hash(token), user.id, csrf, now, now),
    )
    db.commit()
    return token, csrf


def session_user(db: sqlite3.Connection, token: str) -> tuple[User, str] | None:
    """The session's user and CSRF token, or None when it ended (logout, idle, disabled)."""
    now = time.time()
    row = db.execute(
        "SELECT u.id, u.name, u.role, s.csrf, s.last_seen FROM sessions s JOIN users u"
        " ON u.id = s.user_id WHERE s.token_hash = ? AND u.disabled = 0",
        (_token_hash(token),),
    ).fetchone()
    if row is None or now - row[4] > SESSION_IDLE:
        return None
    db.execute("UPDATE sessions SET last_seen = ? WHERE token_hash = ?", (now, _token_hash(token)))
    db.commit()
    return User(row[0], row[1], Role(row[2])), row[3]


def end_session(db: sqlite3.Connection, token: str) -> None:
    db.execute("DELETE FROM sessions WHERE token_hash = ?", (_token_hash(token),))
    db.commit()
