"""A child leaving the home: their rules leave the rules file (the normal save, with the role
table: `children` needs EDIT_RULES, so carers and administrators, as adding a child does), their
devices become unassigned or are removed, and one audit entry says who and why.

Their records are not deleted here: each is kept until its own retention ends (README, "What is
kept, and for how long"), and dashboard.data.children_left keeps their name so the blocked log
and its export still say who they were.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from dashboard.actions import ActionError, Failure, changes_text, saving
from dashboard.data import audit, children_left, practitioners
from dashboard.data import device_decisions as decisions
from dashboard.data.devices import owned_by, unlist
from dashboard.data.rules_file import child_names, edited
from filterd.text.people import text_problem

if TYPE_CHECKING:
    from dashboard.app import Dashboard
    from dashboard.data.accounts import User

UNASSIGN = "unassign"
REMOVE = "remove"
DEVICE_CHOICES = {
    UNASSIGN: "Keep them on the Devices list, not assigned to anyone",
    REMOVE: "Remove them from the Devices list",
}
MAX_REASON = 200


class Removed(NamedTuple):
    name: str
    devices: int  # how many devices were the child's
    version: str


def _checked(name: str, confirm: str, devices: str, reason: str) -> str:
    if devices not in DEVICE_CHOICES:
        raise ActionError(
            Failure.INVALID,
            f"Choose what happens to {name}'s devices.",
            field="devices",
        )
    reason = reason.strip()
    if not reason:
        raise ActionError(
            Failure.INVALID,
            "Say why, in a few words (for example: moved to a new placement).",
            field="reason",
        )
    if (problem := text_problem(reason, MAX_REASON)) is not None:
        raise ActionError(Failure.INVALID, f"The reason {problem}.", field="reason")
    if confirm.strip().casefold() != name.strip().casefold():
        raise ActionError(
            Failure.INVALID, f"Type {name} to confirm: the name, as it is shown.", field="confirm"
        )
    return reason


def remove_child(
    dashboard: Dashboard,
    user: User,
    child: str,
    confirm: str,
    devices: str,
    reason: str,
    version: str,
) -> Removed:
    """Take a child out of the rules once their name is typed to confirm."""
    snapshot = dashboard.rules.read()
    names = child_names(snapshot.raw)
    if child not in names:
        raise ActionError(Failure.NOT_FOUND, "That child is not in the rules.")
    name = names[child]
    reason = _checked(name, confirm, devices, reason)
    raw = edited(snapshot)
    del raw["children"][child]
    theirs = owned_by(raw, child)
    unlist(raw, theirs)
    with saving():
        saved = dashboard.rules.save(raw, version, user, reason)
    db = dashboard.db()
    for entry in theirs:
        mac = str(entry.get("mac") or "").strip().lower().replace("-", ":")
        key = mac or str(entry.get("ip") or "").strip()
        if devices == REMOVE:
            if mac:  # hidden until seen again; one listed by address only is simply gone
                decisions.record(db, mac, decisions.REMOVED, user.name)
        elif key:  # listed, not assigned, seen or not, its device record still readable
            decisions.record(db, key, decisions.KEPT, user.name, str(entry.get("name") or ""))
    children_left.record(db, child, name, user.name, reason)
    had_them = practitioners.forget_child(db, child)
    audit.record(
        db,
        user.name,
        audit.CHILD_REMOVE,
        child,
        f"{name}; devices: {DEVICE_CHOICES[devices].lower()} ({len(theirs)});"
        f" reason: {reason}; {changes_text(saved)}"
        + (f"; no longer shown to practitioner {', '.join(had_them)}" if had_them else ""),
    )
    return Removed(name, len(theirs), dashboard.rules.read().version)
