"""Saving rules: a child's rules from the editor, a new child, or the whole file (API)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dashboard.actions import ActionError, Failure, changes_text, saving
from dashboard.data import audit
from dashboard.data.child_form import apply_form
from dashboard.data.child_ids import child_id, taken_ids
from dashboard.data.rules_file import edited
from filterd.rules.presets import age_words

if TYPE_CHECKING:
    import sqlite3

    from dashboard.app import Dashboard
    from dashboard.data.accounts import User


def _children(raw: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(raw.get("children"), dict):
        raw["children"] = {}
    return raw["children"]


def save_child(
    dashboard: Dashboard,
    user: User,
    child: str,
    form: dict[str, Any],
    version: str,
    reason: str = "",
) -> None:
    """Write the editor's fields over a child's rules and save them (`reason`: why, when the
    change lets the child reach a high-risk category; kept in the audit trail)."""
    snapshot = dashboard.rules.read()
    children = snapshot.raw.get("children")
    if not isinstance(children, dict) or child not in children:
        raise ActionError(Failure.NOT_FOUND, "That child is not in the rules.")
    raw = edited(snapshot)
    raw["children"][child] = apply_form(children[child], form)
    with saving():
        saved = dashboard.rules.save(raw, version, user, reason)
    audit.record(dashboard.db(), user.name, audit.RULES_SAVE, child, changes_text(saved))


def add_child(dashboard: Dashboard, user: User, name: str, age_band: str, version: str) -> str:
    """Add a child with an age preset and return their id, made from the name (people never
    type or see it); filterd's parser checks the name and band."""
    snapshot = dashboard.rules.read()
    raw = edited(snapshot)
    children = _children(raw)
    child = child_id(name, taken_ids(dashboard.db(), children))
    children[child] = {"name": name, "age_band": age_band}
    try:
        with saving():
            dashboard.rules.save(raw, version, user)
    except ActionError as err:
        err.child = child
        raise
    audit_child_added(dashboard.db(), user, child, age_band)
    return child


def audit_child_added(db: sqlite3.Connection, user: User, child: str, age_band: str) -> None:
    """The one audit entry for a new child, from the Children page, the API or set-up."""
    audit.record(db, user.name, audit.CHILD_ADD, child, age_words(age_band))


def save_rules(
    dashboard: Dashboard, user: User, raw: dict[str, Any], version: str, reason: str = ""
) -> str:
    """Replace the whole rules file (the API's PUT); returns the new version."""
    with saving():
        saved = dashboard.rules.save(raw, version, user, reason)
    audit.record(dashboard.db(), user.name, audit.RULES_SAVE, "(all)", changes_text(saved))
    return dashboard.rules.read().version
