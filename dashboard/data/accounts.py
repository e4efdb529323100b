"""Accounts and roles: adding, authenticating, changing and removing accounts.

Roles see only what they need (README, "Dashboard"): an administrator does everything; a carer
changes rules and takes quick actions; a safeguarding lead reviews blocked requests, exports
and reads the audit trail; a viewer reads; a practitioner (dashboard.data.practitioners) is
granted nothing here and sees only the pages made for it, about the children it was given,
until its end. Checks are made on the server for every request.
"""

from __future__ import annotations

import enum
import sqlite3
import time
from pathlib import Path
from typing import NamedTuple

from dashboard.data import passwords, setup_code, throttle
from dashboard.data.throttle import Refusal


class Role(enum.StrEnum):
    ADMINISTRATOR = "administrator"
    CARER = "carer"
    SAFEGUARDING_LEAD = "safeguarding_lead"
    VIEWER = "viewer"
    PRACTITIONER = "practitioner"  # visiting, read-only, some children, until an end date


class Permission(enum.StrEnum):
    VIEW = "view"  # activity, children, devices
    EDIT_RULES = "edit_rules"  # rules editor and quick actions
    EDIT_HOME = "edit_home"  # home-wide rules: time zone, devices nobody listed
    REVIEW = "review"  # blocked-request review and export
    AUDIT = "audit"  # the audit trail
    MANAGE_USERS = "manage_users"  # other people's accounts and sessions
    BACKUP = "backup"  # download a backup: every account's password hash is in it
    AGREEMENTS = "agreements"  # record and sign a child's online-safety agreement


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMINISTRATOR: frozenset(Permission),
    Role.CARER: frozenset({Permission.VIEW, Permission.EDIT_RULES, Permission.AGREEMENTS}),
    Role.SAFEGUARDING_LEAD: frozenset(
        {Permission.VIEW, Permission.REVIEW, Permission.AUDIT, Permission.AGREEMENTS}
    ),
    Role.VIEWER: frozenset({Permission.VIEW}),
    # Nothing: every page checked by permission refuses it; the few pages made for it say so
    # themselves (dashboard.web.security.open_to_practitioners) and check which child.
    Role.PRACTITIONER: frozenset(),
}

# What each permission lets a person do, in the words People shows beside a role.
PERMISSION_WORDS: dict[Permission, str] = {
    Permission.VIEW: "see the children, their activity and devices",
    Permission.EDIT_RULES: "change rules and use quick actions",
    Permission.EDIT_HOME: "change the home's settings",
    Permission.REVIEW: "review and export blocked requests",
    Permission.AUDIT: "read the audit trail",
    Permission.MANAGE_USERS: "manage people",
    Permission.BACKUP: "download backups",
    Permission.AGREEMENTS: "record agreements",
}
ROLE_NAMES: dict[Role, str] = {  # the roles People offers (practitioners are added apart)
    Role.ADMINISTRATOR: "Administrator",
    Role.CARER: "Carer",
    Role.SAFEGUARDING_LEAD: "Safeguarding lead",
    Role.VIEWER: "Viewer",
}


def role_description(role: Role) -> str:
    """'Carer: see the children..., change rules..., record agreements', from GRANTS, so what
    People says a role may do is what the server lets it do."""
    granted = GRANTS[role]
    if granted == frozenset(Permission):
        may = "everything, including people, the home's settings and backups"
    else:
        may = ", ".join(words for p, words in PERMISSION_WORDS.items() if p in granted)
        may += "; change nothing" if granted == {Permission.VIEW} else ""
    return f"{ROLE_NAMES[role]}: {may}"


ROLE_DESCRIPTIONS: dict[Role, str] = {role: role_description(role) for role in ROLE_NAMES}

# An account may be used: not a practitioner, or a practitioner whose end has not come (a
# practitioner with no access row at all never can). Part of the WHERE clause wherever an
# account is read to let someone in (login, every request), `users` being the account's table
# and the current time its one parameter.
LIVE = (
    "(users.role != 'practitioner' OR EXISTS (SELECT 1 FROM practitioners p"
    " WHERE p.user_id = users.id AND p.ends > ?))"
)


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


class AccessEnded(Exception):
    """The right password for a practitioner whose access has ended (its end, a timestamp)."""

    def __init__(self, name: str, ends: float) -> None:
        super().__init__(name)
        self.name = name
        self.ends = ends


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
    """The user, or None for a wrong name or password (or a disabled account); AccessEnded
    for the right password of a practitioner whose access has ended.

    Raises Throttled before any hashing when this source (or, from an unknown device, everyone)
    failed too often lately, and passwords.Busy when hashing is saturated by a flood.
    """
    name = name.strip()  # one account however the name is padded
    now = time.time()
    row = db.execute(
        "SELECT id, name, role, password_hash, NOT " + LIVE + " FROM users"
        " WHERE name = ? AND disabled = 0",
        (now, name),
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
    if row[4]:  # a practitioner whose access ended: told so, only now the password is right
        ended = db.execute("SELECT ends FROM practitioners WHERE user_id = ?", (row[0],))
        raise AccessEnded(row[1], float((ended.fetchone() or (now,))[0]))
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


# Roles that guard a whole home's safeguarding: two-factor is offered to them.
TWO_FACTOR_ROLES = frozenset({Role.ADMINISTRATOR, Role.SAFEGUARDING_LEAD})


class Account(NamedTuple):
    id: int
    name: str
    role: Role
    disabled: bool
    created: float
    two_factor: bool


def listing(db: sqlite3.Connection) -> list[Account]:
    rows = db.execute(
        "SELECT id, name, role, disabled, created, totp_secret != '' FROM users ORDER BY name"
    )
    return [Account(r[0], r[1], Role(r[2]), bool(r[3]), r[4], bool(r[5])) for r in rows]


def find(db: sqlite3.Connection, user_id: int) -> Account | None:
    return next((a for a in listing(db) if a.id == user_id), None)


def change_password(
    db: sqlite3.Connection, user: User, current: str, new: str, remote: str
) -> None:
    """Everyone's own password: the current one first (throttled like a login)."""
    row = db.execute("SELECT password_hash FROM users WHERE id = ?", (user.id,)).fetchone()
    reservation = throttle.reserve(db, "password", user.name, remote, "", time.time())
    if isinstance(reservation, Refusal):
        raise Throttled(reservation)
    if row is None or not passwords.verify(row[0], current):
        raise AccountError("That is not your current password.")
    throttle.release(db, reservation)
    problem = passwords.weakness(new, user.name)
    if problem:
        raise PasswordRefused(problem)
    db.execute(
        "UPDATE users SET password_hash = ? WHERE id = ?", (passwords.hash_password(new), user.id)
    )
    db.commit()


def reset_password(db: sqlite3.Connection, target: int, name: str, new: str) -> None:
    """An administrator sets someone's forgotten password; their sessions end."""
    problem = passwords.weakness(new, name)
    if problem:
        raise PasswordRefused(problem)
    _change(
        db,
        target,
        False,
        ("UPDATE users SET password_hash = ? WHERE id = ?", (passwords.hash_password(new), target)),
        ("DELETE FROM sessions WHERE user_id = ?", (target,)),
    )


def _administrators_left(db: sqlite3.Connection, without: int) -> int:
    (count,) = db.execute(
        "SELECT count(*) FROM users WHERE role = ? AND disabled = 0 AND id != ?",
        (Role.ADMINISTRATOR.value, without),
    ).fetchone()
    return count


LAST_ADMINISTRATOR = (
    "This is the only administrator left: make another account an administrator first,"
    " or nobody could manage the dashboard."
)


def _change(db: sqlite3.Connection, target: int, removes_administrator: bool, *sql) -> None:
    """One change to another account, refused when it would leave no administrator (checked
    and made in one write transaction, so two racing changes cannot both pass)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        row = db.execute("SELECT role, disabled FROM users WHERE id = ?", (target,)).fetchone()
        if row is None:
            raise AccountError("There is no such account any more.")
        was_admin = row[0] == Role.ADMINISTRATOR.value and not row[1]
        if removes_administrator and was_admin and _administrators_left(db, target) == 0:
            raise AccountError(LAST_ADMINISTRATOR)
        for statement, parameters in sql:
            db.execute(statement, parameters)
        db.commit()
    finally:
        if db.in_transaction:
            db.rollback()


def set_role(db: sqlite3.Connection, target: int, role: Role) -> None:
    _change(
        db,
        target,
        role is not Role.ADMINISTRATOR,
        ("UPDATE users SET role = ? WHERE id = ?", (role.value, target)),
    )


def set_disabled(db: sqlite3.Connection, target: int, disabled: bool) -> None:
    """A disabled account cannot log in and its sessions end at once."""
    _change(
        db,
        target,
        disabled,
        ("UPDATE users SET disabled = ? WHERE id = ?", (int(disabled), target)),
        ("DELETE FROM sessions WHERE user_id = ? AND ? = 1", (target, int(disabled))),
    )


def delete(db: sqlite3.Connection, target: int) -> None:
    """The account and its sessions and known devices go; the audit trail keeps its name."""
    _change(
        db,
        target,
        True,
        ("DELETE FROM sessions WHERE user_id = ?", (target,)),
        ("DELETE FROM known_devices WHERE user_id = ?", (target,)),
        ("DELETE FROM users WHERE id = ?", (target,)),
    )


def has_administrator(db: sqlite3.Connection) -> bool:
    """Whether any administrator account exists (disabled or not): once one does, the set-up
    code has nothing left to open."""
    return (
        db.execute(
            "SELECT 1 FROM users WHERE role = ? LIMIT 1", (Role.ADMINISTRATOR.value,)
        ).fetchone()
        is not None
    )


def alert_addresses(db: sqlite3.Connection) -> list[tuple[int, str, str]]:
    """(id, role, email) of every enabled account with an alert address, oldest first."""
    return db.execute(
        "SELECT id, role, email FROM users WHERE disabled = 0 AND email != '' ORDER BY id"
    ).fetchall()


def set_alert_email(db: sqlite3.Connection, user_id: int, email: str) -> None:
    """Where this account's alerts go ('' for nowhere); checked by the caller, not committed."""
    db.execute("UPDATE users SET email = ? WHERE id = ?", (email, user_id))


def alert_email(db: sqlite3.Connection, user_id: int) -> str:
    row = db.execute("SELECT email FROM users WHERE id = ?", (user_id,)).fetchone()
    return row[0] if row else ""
