"""Who is told about which event, and whether it may wait for the morning.

Roles bound what an account may receive (README "Alerts"): the safeguarding lead and
administrators get every sign that a child may be at risk; administrators also get the box's
own troubles; carers may choose access requests, new devices and spent limits. Carers, the
safeguarding lead and administrators are told of agreements due for review by default.
Within its role each account chooses; an account that never chose gets its role's defaults.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable

from dashboard.data import accounts, alert_choices
from dashboard.data.accounts import Role
from filterd.events import kinds as k

SAFEGUARDING = frozenset(
    {
        k.BLOCK_HIGH_RISK.name,
        k.BLOCK_ILLEGAL.name,
        k.BYPASS_ATTEMPT.name,
        k.DEVICE_QUIET.name,
        k.RULES_EDITED_BY_HAND.name,  # protection changed with no name or reason attached
    }
)
SYSTEM = frozenset(
    {
        k.RULES_REFUSED.name,
        k.LISTS_STALE.name,
        k.LISTS_ILLEGAL_SOURCE_REMOVED.name,
        k.UPSTREAM_ALL_FAILING.name,
        k.UPSTREAM_RECOVERED.name,
        k.SYSTEM_STARTED.name,
        k.SELFTEST_FAILED.name,
    }
)
CARERS = frozenset({k.ACCESS_REQUESTED.name, k.DEVICE_NEW.name, k.LIMIT_SPENT.name})
# A child's agreement coming up for review: the carers and the safeguarding lead, by default.
AGREEMENTS = frozenset({k.AGREEMENT_REVIEW_DUE.name, k.AGREEMENT_REVIEW_OVERDUE.name})
# Kinds no account is emailed, each deliberately (the event stream still carries them, and a
# webhook that takes their severity). A kind in none of the sets above nor here is a mistake:
# tests/unit/test_event_kinds_routed.py fails until it is routed or listed here.
NOT_ALERTED = frozenset(
    {
        k.RULES_SAVED.name,  # someone at the dashboard did it: the audit trail names them
        k.SELFTEST_RESULT.name,  # a pass is routine; a failure is SELFTEST_FAILED, alerted
        k.RECORDS_WITNESSED.name,  # a fingerprint for later checks, nothing to act on
        k.SELFTEST_REQUESTED.name,  # an instruction to the daemon; the result follows
    }
)
DIGESTS = frozenset({"digest.daily", "digest.weekly", "digest.monthly"})  # alerts.digest
DIGEST_LABELS = (("digest.daily", "A daily summary each morning"),
                 ("digest.weekly", "A weekly summary on Monday mornings"),
                 ("digest.monthly", "The monthly evidence report (PDF) on the 1st"))  # fmt: skip
MAY_RECEIVE: dict[Role, frozenset[str]] = {
    Role.ADMINISTRATOR: SAFEGUARDING | SYSTEM | DIGESTS | CARERS | AGREEMENTS,
    Role.SAFEGUARDING_LEAD: SAFEGUARDING | DIGESTS | AGREEMENTS,
    Role.CARER: CARERS | AGREEMENTS,
    Role.VIEWER: frozenset(),
    Role.PRACTITIONER: frozenset(),  # visiting: never sent a child's events
}
BY_DEFAULT: dict[Role, frozenset[str]] = {
    Role.ADMINISTRATOR: SAFEGUARDING | DIGESTS | (SYSTEM - {k.SYSTEM_STARTED.name}) | AGREEMENTS,
    Role.SAFEGUARDING_LEAD: SAFEGUARDING | DIGESTS | AGREEMENTS,
    Role.CARER: AGREEMENTS,
    Role.VIEWER: frozenset(),
    Role.PRACTITIONER: frozenset(),
}
CHOSEN = "(chosen)"  # a row saying the account has chosen (so no row at all is not "defaults")
# Never held till morning: a block of one, or a hand edit of the rules file loosening one.
URGENT_CATEGORIES = frozenset({"self_harm", "illegal"})


def urgent(kind: str, categories: Iterable[str]) -> bool:
    """Sent at once even in quiet hours: the illegal tier and self-harm (blocked, or their
    blocking loosened by a hand edit of the rules file)."""
    return kind == k.BLOCK_ILLEGAL.name or bool(URGENT_CATEGORIES & set(categories))


def email_recipients(db: sqlite3.Connection, kind: str) -> list[str]:
    """Email addresses of the enabled accounts that receive this kind of event."""
    found = []
    for user_id, role_text, email in accounts.alert_addresses(db):
        try:
            role = Role(role_text)
        except ValueError:
            continue
        if kind in choices(db, user_id, role):
            found.append(email)
    return found


def choices(db: sqlite3.Connection, user_id: int, role: Role) -> frozenset[str]:
    """The kinds this account receives: its own choice within its role, or the defaults."""
    chosen = alert_choices.chosen(db, user_id)
    if CHOSEN not in chosen:
        return BY_DEFAULT[role]
    return frozenset(chosen) & MAY_RECEIVE[role]


class ChoiceRefused(ValueError):
    """A choice refused whole, nothing changed; `field` is the form field it is about."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _refused_kinds(role: Role, wanted: set[str]) -> None:
    if wanted - MAY_RECEIVE[role]:
        raise ChoiceRefused("kind", "You can only choose the alerts your role receives.")


def choose(db: sqlite3.Connection, user_id: int, role: Role, wanted: Iterable[str]) -> None:
    """Replace an account's choice; kinds outside its role are refused."""
    wanted = set(wanted)
    _refused_kinds(role, wanted)
    _write_choice(db, user_id, wanted)
    db.commit()


def _write_choice(db: sqlite3.Connection, user_id: int, wanted: set[str]) -> None:
    alert_choices.replace(db, user_id, wanted | {CHOSEN})


EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+").fullmatch


def _checked_email(email: str) -> str:
    email = email.strip()
    if email and (len(email) > 254 or EMAIL_SHAPE(email) is None):
        raise ChoiceRefused(
            "email", "That is not an email address: it should look like name@example.org."
        )
    return email


def set_email(db: sqlite3.Connection, user_id: int, email: str) -> None:
    """Where this account's alerts go ('' for nowhere); a malformed address is refused."""
    accounts.set_alert_email(db, user_id, _checked_email(email))
    db.commit()


def save_choices(
    db: sqlite3.Connection, user_id: int, role: Role, email: str, wanted: Iterable[str]
) -> None:
    """The address and the choice together: everything checked first, then both written in
    one commit, so a refusal (ChoiceRefused) changes nothing at all."""
    wanted = set(wanted)
    address = _checked_email(email)
    _refused_kinds(role, wanted)
    accounts.set_alert_email(db, user_id, address)
    _write_choice(db, user_id, wanted)
    db.commit()


def email_of(db: sqlite3.Connection, user_id: int) -> str:
    return accounts.alert_email(db, user_id)
