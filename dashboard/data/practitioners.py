"""Practitioners' accounts: a social worker, independent reviewing officer or
independent visitor gets a read-only account for the children they are given, until an end
date. It sees those children's rules, device records and agreements, and nothing else.

`can_see_child` is the one check of who may see a child: every page about one child that a
practitioner may open asks it (dashboard.web.security's gate calls it for each such page).
The end is enforced where accounts are read: login is refused and every session ends from
that moment (LIVE, used by dashboard.data.accounts and dashboard.data.sessions). No Flask here.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import date, datetime, timedelta
from datetime import time as day_time
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from dashboard.data import accounts, passwords
from dashboard.data.accounts import (
    AccountError,
    PasswordRefused,
    Permission,
    Role,
    User,
)
from filterd.text.people import name_problem

KINDS: dict[str, str] = {
    "social_worker": "Social worker",
    "iro": "Independent reviewing officer",
    "independent_visitor": "Independent visitor",
}
MAX_DAYS = 90  # the longest an account lasts: a review cycle; a new one can be made after


class Access(NamedTuple):
    kind: str  # KINDS' keys
    ends: float  # the moment login stops
    children: frozenset[str]  # child ids in the rules file
    created_by: str

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, "Practitioner")


def access_of(db: sqlite3.Connection, user_id: int) -> Access | None:
    row = db.execute(
        "SELECT kind, ends, created_by FROM practitioners WHERE user_id = ?", (user_id,)
    ).fetchone()
    if row is None:
        return None
    children = frozenset(
        r[0]
        for r in db.execute("SELECT child FROM practitioner_children WHERE user_id = ?", (user_id,))
    )
    return Access(row[0], row[1], children, row[2])


def listing(db: sqlite3.Connection) -> dict[int, Access]:
    """Every practitioner account's access, by account id (for the People page)."""
    found = {}
    for (user_id,) in db.execute("SELECT user_id FROM practitioners"):
        access = access_of(db, user_id)
        if access is not None:
            found[user_id] = access
    return found


def can_see_child(
    db: sqlite3.Connection, user: User | None, child: str, now: float | None = None
) -> bool:
    """Whether this account may see anything about this child: staff who may view, every
    child; a practitioner, only the children it was given and only before its end."""
    if user is None:
        return False
    if user.role is not Role.PRACTITIONER:
        return user.may(Permission.VIEW)
    access = access_of(db, user.id)
    now = time.time() if now is None else now
    return access is not None and access.ends > now and child in access.children


def visible_children(
    db: sqlite3.Connection, user: User, children: dict[str, Any], now: float | None = None
) -> dict[str, Any]:
    """Those of the rules' children (id -> anything) this account may see, in file order."""
    return {cid: body for cid, body in children.items() if can_see_child(db, user, cid, now)}


def day_words(day: date) -> str:
    """A day as a person writes it: "Friday 26 February 2027"."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def last_day_text(ends: float, tz: ZoneInfo) -> str:
    """The last day an account works (its end is midnight after it)."""
    return day_words((datetime.fromtimestamp(ends, tz) - timedelta(seconds=1)).date())


def end_of(last_day: date, tz: ZoneInfo) -> float:
    """The moment access ends: midnight at the end of its last day, in the home's time zone."""
    return datetime.combine(last_day + timedelta(days=1), day_time(0), tz).timestamp()


class NewPractitioner(NamedTuple):
    """What an administrator typed, before it is checked."""

    name: str
    kind: str
    children: frozenset[str]
    last_day: str  # YYYY-MM-DD
    password: str
    confirm: str


def problems(typed: NewPractitioner, known_children: set[str], today: date) -> dict[str, str]:
    """Field -> what is wrong with it, in plain words (the password is checked on adding)."""
    found: dict[str, str] = {}
    if typed.name.strip() and (problem := name_problem(typed.name.strip(), 64)) is not None:
        found["name"] = f"Their name: {problem}."
    if typed.kind not in KINDS:
        found["kind"] = "Choose who they are: social worker, reviewing officer or visitor."
    if not typed.children:
        found["children"] = "Tick at least one child they may see."
    elif not typed.children <= known_children:
        found["children"] = "Tick only children in this home's rules."
    try:
        last_day = date.fromisoformat(typed.last_day.strip())
    except ValueError:
        found["last_day"] = (
            "Give the last day they may look, as day, month and year (for example 2027-01-31)."
        )
    else:
        if last_day < today:
            found["last_day"] = "That day has passed: give a day from today on."
        elif last_day > today + timedelta(days=MAX_DAYS):
            found["last_day"] = (
                f"At most {MAX_DAYS} days from today (the latest is"
                f" {day_words(today + timedelta(days=MAX_DAYS))}): make a new account after."
            )
    if typed.password != typed.confirm:
        found["confirm"] = "The two passwords are not the same."
    return found


def add(
    db: sqlite3.Connection, typed: NewPractitioner, tz: ZoneInfo, created_by: str
) -> tuple[User | None, dict[str, str]]:
    """Create the account and its access (after `problems` found none); returns the user, or
    the name or password problem."""
    try:
        user = accounts.add_user(db, typed.name, Role.PRACTITIONER, typed.password)
    except PasswordRefused as err:
        return None, {"password": str(err)}
    except AccountError as err:
        return None, {"name": str(err)}
    except passwords.Busy:
        return None, {"password": "The dashboard is busy: try again in a moment."}
    ends = end_of(date.fromisoformat(typed.last_day.strip()), tz)
    with db:
        db.execute(
            "INSERT INTO practitioners (user_id, kind, ends, created_by) VALUES (?, ?, ?, ?)",
            (user.id, typed.kind, ends, created_by),
        )
        db.executemany(
            "INSERT INTO practitioner_children (user_id, child) VALUES (?, ?)",
            [(user.id, child) for child in sorted(typed.children)],
        )
    return user, {}


def forget_child(db: sqlite3.Connection, child: str) -> list[str]:
    """A child left the home: no practitioner may see that id any more (a new child could be
    given the same id later). Returns the names of the accounts that had it."""
    names = [
        row[0]
        for row in db.execute(
            "SELECT users.name FROM practitioner_children pc JOIN users ON users.id = pc.user_id"
            " WHERE pc.child = ? ORDER BY users.name",
            (child,),
        )
    ]
    db.execute("DELETE FROM practitioner_children WHERE child = ?", (child,))
    db.commit()
    return names
