"""Choosing the rules for devices nobody has assigned (administrators: RulesFile.save checks
the role against dashboard.data.rule_permissions)."""

from __future__ import annotations

from typing import Any

from dashboard.actions import ActionError, Failure, saving
from dashboard.data import audit
from dashboard.data.rules_file import edited
from dashboard.data.unknown_devices import CHOICES, current


def choose(dashboard: Any, user: Any, choice: str, version: str) -> bool:
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
    audit.record(dashboard.db(), user.name, "devices.unknown", choice, before)
    return True
