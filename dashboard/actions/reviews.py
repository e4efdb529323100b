"""Marking blocked requests reviewed, with an outcome and a note."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dashboard.actions import ActionError, Failure
from dashboard.data import audit
from dashboard.data.blocked_log import ReviewError, blocked_entries, record_reviews, review_audit

if TYPE_CHECKING:
    from dashboard.app import Dashboard
    from dashboard.data.accounts import User


def review_entries(
    dashboard: Dashboard, user: User, ids: list[int], outcome: str, note: str
) -> list[int]:
    """Review those of `ids` that are blocked requests still in the log; returns them."""
    known = [e.id for e in blocked_entries(dashboard.filterd_db(), ids)]
    try:
        record_reviews(dashboard.db(), known, outcome, note, user.name)
    except ReviewError as err:
        raise ActionError(Failure.INVALID, str(err)) from None
    audit.record(dashboard.db(), user.name, "review", *review_audit(known, outcome, note))
    return known
