"""A carer's choice for one app for one child: allowed, blocked, as its category, set hours or
a daily limit (the Apps screen)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dashboard.actions import ActionError, Failure, changes_text, saving
from dashboard.data import app_choices, audit
from dashboard.data.rules_file import edited
from filterd.catalogue.model import Catalogue

if TYPE_CHECKING:
    from dashboard.app import Dashboard
    from dashboard.data.accounts import User


def choose_app(
    dashboard: Dashboard,
    user: User,
    catalogue: Catalogue,
    child: str,
    service_id: str,
    choice: str,
    fields: dict[str, str],
    version: str,
    reason: str = "",
) -> dict[str, Any]:
    """Save the choice; the child's raw rules as saved. `fields`: days, start, end, limit.
    `reason`: why, needed when the app is in a high-risk category and this allows it."""
    if service_id not in catalogue.services:
        raise ActionError(Failure.NOT_FOUND, "filterd does not know that app.")
    if choice not in app_choices.CHOICES:
        raise ActionError(Failure.INVALID, "Choose allowed, blocked, set hours or a daily limit.")
    snapshot = dashboard.rules.read()
    children = snapshot.raw.get("children")
    if not isinstance(children, dict) or child not in children:
        raise ActionError(Failure.NOT_FOUND, "That child is not in the rules.")
    old = children[child] if isinstance(children[child], dict) else {}
    raw = edited(snapshot)
    raw["children"][child] = app_choices.apply_choice(old, service_id, choice, fields)
    with saving():
        saved = dashboard.rules.save(raw, version, user, reason)
    audit.record(dashboard.db(), user.name, audit.RULES_SAVE, child, changes_text(saved))
    return raw["children"][child]
