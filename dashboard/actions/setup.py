"""Setting up the home (the set-up page after the first administrator): the time zone, new
children from the age presets and the rules for devices nobody has assigned, in one save.

Each part writes the same audit entry as the action that makes it alone (child.add as
rules.add_child, devices.unknown as unknown_devices.choose), so the trail reads the same
whichever page a person used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from dashboard.actions import ActionError, Failure, saving
from dashboard.actions.rules import audit_child_added
from dashboard.actions.unknown_devices import audit_choice
from dashboard.data import audit, unknown_devices
from dashboard.data.child_ids import child_id, taken_ids
from dashboard.data.rules_file import edited
from filterd.rules.parse import named_time_zones
from filterd.rules.presets import AGE_BANDS
from filterd.text.people import name_problem

if TYPE_CHECKING:
    from dashboard.app import Dashboard
    from dashboard.data.accounts import User

MAX_NAME = 64


class NewChild(NamedTuple):
    """One filled-in "add a child" row; a row with no name is left out."""

    name: str
    age_band: str


def valid_timezone(name: str) -> bool:
    """The rules parser's own list of the zones a home can be in."""
    return name in named_time_zones()


def problems_of(timezone: str, children: list[NewChild], unknown: str) -> list[str]:
    """What is wrong with the answers, in the order the page asks the questions."""
    problems = []
    if not valid_timezone(timezone):
        problems.append("timezone: choose the home's time zone from the list")
    for number, child in enumerate(children, 1):
        if not child.name:
            continue
        if (problem := name_problem(child.name, MAX_NAME)) is not None:
            problems.append(f"child {number}: {problem}")
        if child.age_band not in AGE_BANDS:
            problems.append(f"child {number}: choose an age band for {child.name}")
    if unknown and unknown not in unknown_devices.CHOICES:
        problems.append("devices nobody has assigned: choose one of the two")
    return problems


def set_up_home(
    dashboard: Dashboard,
    user: User,
    timezone: str,
    children: list[NewChild],
    unknown: str,
    version: str,
) -> list[tuple[str, NewChild]]:
    """Save the answers in one rules write; returns the children added with their new ids.
    `unknown` empty keeps the current choice for devices nobody has assigned."""
    problems = problems_of(timezone, children, unknown)
    if problems:
        raise ActionError(Failure.INVALID, "; ".join(problems), problems)
    raw = edited(dashboard.rules.read())
    old_timezone = raw.get("timezone")
    raw["timezone"] = timezone
    old_unknown = unknown_devices.current(raw)
    if unknown:
        raw["unknown_devices"] = unknown
    if not isinstance(raw.get("children"), dict):
        raw["children"] = {}
    added = []
    taken = taken_ids(dashboard.db(), raw["children"])
    for child in children:
        if child.name:
            cid = child_id(child.name, taken)
            taken.add(cid)
            raw["children"][cid] = {"name": child.name, "age_band": child.age_band}
            added.append((cid, child))
    with saving():
        dashboard.rules.save(raw, version, user)
    db = dashboard.db()
    if timezone != old_timezone:
        audit.record(db, user.name, audit.SETUP_TIMEZONE, timezone, str(old_timezone or ""))
    if unknown and unknown != old_unknown:
        audit_choice(db, user, unknown, old_unknown)
    for cid, child in added:
        audit_child_added(db, user, cid, child.age_band)
    return added
