"""Choosing the rules for devices nobody has assigned (administrators: RulesFile.save checks
the role against dashboard.data.rule_permissions)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dashboard.actions import ActionError, Failure, saving
from dashboard.data import audit
from dashboard.data.rules_file import edited
from dashboard.data.unknown_devices import CHOICES, current

if TYPE_CHECKING:
    import sqlite3

    from dashboard.app import Dashboard
    from dashboard.data.accounts import User


def choose(dashboard: Dashboard, user: User, choice: str, version: str) -> bool:
    """Save the choice; False when it was already in force (nothing written)."""
    if choice not in CHOICES:
        raise ActionError(Failure.INVALID, "Choose how devices nobody has assigned are filtered.")
    snapshot = dashboard.rules.read()
    before = current(snapshot.raw)
    if before == choice and "unknown_devices" in snapshot.raw:
        return False
    raw = edited(snapshot)
    raw["unknown_devices"] = choice
    with saving():
        dashboard.rules.save(raw, version, user)
    audit_choice(dashboard.db(), user, choice, before)
    return True


def audit_choice(db: sqlite3.Connection, user: User, choice: str, before: str) -> None:
    """The one audit entry for a changed choice, from the Devices page, the API or set-up."""
    audit.record(db, user.name, audit.DEVICES_UNKNOWN, choice, before)
