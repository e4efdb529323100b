"""Recording and signing a child's online-safety agreement, and the drafts a rules change starts;
each one audited, so the trail links every version to the rule changes behind it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from dashboard.actions import ActionError, Failure
from dashboard.data import agreement_form, agreements, audit
from dashboard.data.agreement_form import Problem
from dashboard.data.agreements import Version
from dashboard.data.home_timezone import home_timezone

if TYPE_CHECKING:
    import sqlite3

    from dashboard.app import Dashboard
    from dashboard.data.accounts import User
    from filterd.rules.model import Rules


def _profile(dashboard: Dashboard, child: str):
    snapshot = dashboard.rules.read()
    rules = snapshot.rules
    if rules is None:
        raise ActionError(
            Failure.REFUSED,
            "The rules file is refused right now, so the agreement cannot say what is in force."
            " Put the rules right first.",
        )
    profile = rules.children.get(child)
    if profile is None:
        raise ActionError(Failure.NOT_FOUND, "That child is not in the rules.")
    return snapshot, profile


def follow_rules(dashboard: Dashboard, now: float) -> list[Version]:
    """Start a draft for every agreement the rules no longer match (see `drafts_for`)."""
    return drafts_for(dashboard.db(), dashboard.rules.read().rules, now)


def drafts_for(db: sqlite3.Connection, rules: Rules | None, now: float) -> list[Version]:
    """Start a draft for every agreement `rules` no longer match; audit each one with the rule
    changes behind it. Run before a page shows or changes an agreement, so after the change's
    own audit entry; the agreement's state (out of date or not) never waits for it: it is
    worked out from the rules in force each time (dashboard.data.agreements.status)."""
    if rules is None:  # refused rules change no agreement
        return []
    made = agreements.follow_rules(db, rules, now)
    for draft in made:
        _audit_version(db, draft, "agreement.draft", rules.children[draft.child].name)
    return made


def _audit_version(db: sqlite3.Connection, made: Version, action: str, name: str) -> None:
    changes = agreements.rule_changes(db, made.child, name, made.audit_after, made.audit_upto)
    behind = "; ".join(detail for _, _, detail in changes) or "no rule changes"
    audit.record(
        db,
        made.author,
        action,
        made.child,
        f"version {made.number}; rule changes behind it: {behind}",
    )


def record(
    dashboard: Dashboard, user: User, child: str, typed: dict[str, Any], now: float
) -> Version:
    """Keep what people recorded as a new version, with the rules in force now."""
    snapshot, profile = _profile(dashboard, child)
    today = datetime.fromtimestamp(now, home_timezone(snapshot)).date()
    clean = agreement_form.check_fields(typed, today)  # Problem goes back to the form
    db = dashboard.db()
    follow_rules(dashboard, now)
    made = agreements.add_version(
        db, child, user.name, "recorded", agreements.summary(profile), clean, now
    )
    db.commit()
    _audit_version(db, made, "agreement.record", profile.name)
    return made


def sign(
    dashboard: Dashboard, user: User, child: str, number: int, signer: str, part: str, now: float
) -> Version:
    """Mark the newest version signed by the person named (typed), recorded by `user`."""
    _profile(dashboard, child)
    name, part = agreement_form.check_signer(signer, part)
    follow_rules(dashboard, now)
    db = dashboard.db()
    current = agreements.latest(db, child)
    if current is None:
        raise ActionError(
            Failure.NOT_FOUND,
            "No agreement is recorded for this child yet: record one, print it, and mark it"
            " signed once it is signed.",
        )
    if agreements.version(db, child, number) is None:
        raise ActionError(Failure.NOT_FOUND, f"This child's agreement has no version {number}.")
    if current.number != number:
        raise ActionError(
            Failure.STALE,
            "The rules changed since you opened this page, so there is a new version to"
            " read and sign. Nothing was signed.",
        )
    label = agreement_form.SIGN_PART_LABELS[part].lower()
    already = [
        s for s in current.signatures if s.signer.casefold() == name.casefold() and s.part == part
    ]
    if already:
        raise agreement_form.Problem(
            {"signer": f"{already[0].signer} has already signed version {number} as {label}."}
        )
    agreements.sign(db, current.id, name, part, user.name, now)
    db.commit()
    audit.record(
        db, user.name, "agreement.sign", child, f"version {number} signed by {name} ({label})"
    )
    return current


__all__ = ["Problem", "drafts_for", "follow_rules", "record", "sign"]
