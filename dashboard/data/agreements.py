"""Each child's online-safety agreement: what the rules in force say, plus what only
people can record (who took part, the risk assessment, the child's own words, the review date,
direct observation), kept as versions that are never changed or deleted.

A version holds the plain-words summary of the child's rules when it was made
(filterd.rules.changes.in_force) and the people's fields as JSON. Saving the form makes a new
version; so does a rules change that changes the summary after a version was made
(`follow_rules`): the signed one is then out of date until the new draft is signed. Each version
names the audit entries between it and the version before (`audit_after`, `audit_upto`), so the
rule changes behind it can be listed. Signatures are rows of their own (a name typed, who recorded
it, when), also append-only. The tables are defined in dashboard.data.db (AGREEMENTS); the
form's fields and checks are dashboard.data.agreement_form. Read and written only here.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from dashboard.data import audit
from dashboard.data.agreement_form import PEOPLE, SIGN_PART_LABELS, blank_fields
from filterd.rules.changes import in_force
from filterd.rules.model import Profile, Rules

RULES_CHANGED = "(rules changed)"  # the author of a draft a rules change started
REVIEW_SOON_DAYS = 7  # a review date this close, or passed, is a reminder


class Signature(NamedTuple):
    signer: str
    part: str
    recorded_by: str
    ts: float

    @property
    def part_label(self) -> str:
        return SIGN_PART_LABELS.get(self.part, self.part)


class Version(NamedTuple):
    id: int
    child: str
    number: int
    ts: float
    author: str
    cause: str
    in_force: list[tuple[str, str]]
    fields: dict[str, Any]
    audit_after: int
    audit_upto: int
    signatures: tuple[Signature, ...] = ()

    @property
    def signed(self) -> bool:
        return bool(self.signatures)

    def field(self, key: str) -> str:
        value = self.fields.get(key, "")
        return value if isinstance(value, str) else ""

    @property
    def still_to_sign(self) -> list[tuple[str, str]]:
        """(name, part's label) of each person recorded as taking part with no signature yet
        under their name and part."""
        signed = {(s.signer.casefold(), s.part) for s in self.signatures}
        return [
            (self.field(f"{key}_name"), label)
            for key, label in PEOPLE
            if self.field(f"{key}_name")
            and (self.field(f"{key}_name").casefold(), key) not in signed
        ]

    @property
    def observed(self) -> bool:
        return bool(self.fields.get("observation"))

    def review_date(self) -> date | None:
        try:
            return date.fromisoformat(self.field("review"))
        except ValueError:
            return None


def summary(profile: Profile) -> list[tuple[str, str]]:
    """The child's rules in force, as the agreement states them."""
    return [(s.setting, s.value) for s in in_force(profile)]


def _signatures(db: sqlite3.Connection, version: int) -> tuple[Signature, ...]:
    rows = db.execute(
        "SELECT signer, part, recorded_by, ts FROM agreement_signatures WHERE version = ?"
        " ORDER BY id",
        (version,),
    )
    return tuple(Signature(*row) for row in rows)


def _version(db: sqlite3.Connection, row: tuple) -> Version:
    in_force_rows = [tuple(pair) for pair in json.loads(row[6])]
    fields = {**blank_fields(), **json.loads(row[7])}
    return Version(*row[:6], in_force_rows, fields, row[8], row[9], _signatures(db, row[0]))


_COLUMNS = "id, child, number, ts, author, cause, in_force, fields, audit_after, audit_upto"


def versions(db: sqlite3.Connection, child: str) -> list[Version]:
    """Every version of a child's agreement, newest first."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM agreement_versions WHERE child = ? ORDER BY number DESC",
        (child,),
    ).fetchall()
    return [_version(db, row) for row in rows]


def version(db: sqlite3.Connection, child: str, number: int) -> Version | None:
    row = db.execute(
        f"SELECT {_COLUMNS} FROM agreement_versions WHERE child = ? AND number = ?",
        (child, number),
    ).fetchone()
    return _version(db, row) if row else None


def children(db: sqlite3.Connection) -> list[str]:
    """The children with an agreement recorded (any version)."""
    return [
        r[0] for r in db.execute("SELECT DISTINCT child FROM agreement_versions ORDER BY child")
    ]


def latest(db: sqlite3.Connection, child: str) -> Version | None:
    row = db.execute(
        f"SELECT {_COLUMNS} FROM agreement_versions WHERE child = ? ORDER BY number DESC LIMIT 1",
        (child,),
    ).fetchone()
    return _version(db, row) if row else None


def last_signed(db: sqlite3.Connection, child: str) -> Version | None:
    row = db.execute(
        f"SELECT {_COLUMNS} FROM agreement_versions WHERE child = ? AND id IN"
        " (SELECT version FROM agreement_signatures) ORDER BY number DESC LIMIT 1",
        (child,),
    ).fetchone()
    return _version(db, row) if row else None


def _last_audit(db: sqlite3.Connection) -> int:
    return db.execute("SELECT coalesce(max(id), 0) FROM audit").fetchone()[0]


def add_version(
    db: sqlite3.Connection,
    child: str,
    author: str,
    cause: str,
    rules_now: list[tuple[str, str]],
    fields: dict[str, Any],
    now: float,
) -> Version:
    """Append a version (the caller commits); its audit range starts where the last ended."""
    if not db.in_transaction:
        db.execute("BEGIN IMMEDIATE")
    before = db.execute(
        "SELECT coalesce(max(number), 0), coalesce(max(audit_upto), 0)"
        " FROM agreement_versions WHERE child = ?",
        (child,),
    ).fetchone()
    number, after = before[0] + 1, before[1]
    upto = _last_audit(db)
    db.execute(
        "INSERT INTO agreement_versions (child, number, ts, author, cause, in_force, fields,"
        " audit_after, audit_upto) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (child, number, now, author, cause, json.dumps(rules_now), json.dumps(fields),
         after, upto),
    )  # fmt: skip
    found = version(db, child, number)
    assert found is not None
    return found


def sign(
    db: sqlite3.Connection, version_id: int, signer: str, part: str, recorded_by: str, now: float
) -> None:
    """Mark a version signed by `signer` (checked by the caller); the caller commits."""
    db.execute(
        "INSERT INTO agreement_signatures (version, signer, part, recorded_by, ts)"
        " VALUES (?, ?, ?, ?, ?)",
        (version_id, signer, part, recorded_by, now),
    )


def _without_who_took_part(fields: dict[str, Any]) -> dict[str, Any]:
    """The fields with who took part, and when, left empty until someone records it again."""
    blank = {f"{key}_{what}": "" for key, _ in PEOPLE for what in ("name", "on")}
    return {**fields, **blank}


def follow_rules(db: sqlite3.Connection, rules: Rules | None, now: float) -> list[Version]:
    """Start a draft for each child whose rules no longer say what their latest version says
    (a rules change since): the people's fields carried over but who took part (they took part
    in discussing the old rules, not these), the new rules in it. Returns
    the drafts made (the caller audits them). Refused rules (None) change nothing."""
    made: list[Version] = []
    if rules is None:
        return made
    for child in children(db):
        profile = rules.children.get(child)
        if profile is None:
            continue
        current = latest(db, child)
        rules_now = summary(profile)
        if current is None or current.in_force == rules_now:
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            again = latest(db, child)  # another request may have made it meanwhile
            if again is not None and again.in_force != rules_now:
                made.append(
                    add_version(db, child, RULES_CHANGED, "rules_changed", rules_now,
                                _without_who_took_part(again.fields), now)
                )  # fmt: skip
            db.commit()
        except BaseException:
            db.rollback()
            raise
    return made


def rule_changes(db: sqlite3.Connection, child: str, name: str, after: int, upto: int) -> list:
    """The audit entries (ts, user, detail) that changed this child's rules in an id range."""
    rows = [
        (c.ts, c.user, c.target, c.detail) for c in audit.rule_changes(db, after, upto, by_id=True)
    ]
    mine = f"{name}: "
    return [
        (ts, user, detail if target == child else _only_about(detail, mine))
        for ts, user, target, detail in rows
        if target == child or mine in detail or detail.startswith(mine)
    ]


def _only_about(detail: str, mine: str) -> str:
    """The parts of a save's detail ("Sam: ...; Kim: ...") about this child only: a save that
    changed several children shows each child's agreement its own changes (a practitioner
    reads only the children it was given)."""
    return "; ".join(part for part in detail.split("; ") if part.startswith(mine))


class Status(NamedTuple):
    """A child's agreement as the card, the page and the report state it."""

    state: str  # none, draft, signed, out_of_date
    words: str  # in plain words
    signed_on: float | None = None
    review: date | None = None
    review_state: str = ""  # '', due, overdue
    observed: bool = False
    observation_how: str = ""


def status(
    db: sqlite3.Connection, child: str, profile: Profile | None, now: float, tz: ZoneInfo
) -> Status:
    current = latest(db, child)
    if current is None:
        return Status("none", "No agreement recorded")
    signed = last_signed(db, child)
    review = current.review_date()
    today = datetime.fromtimestamp(now, tz).date()
    review_state = ""
    if review is not None and review < today:
        review_state = "overdue"
    elif review is not None and review <= today + timedelta(days=REVIEW_SOON_DAYS):
        review_state = "due"
    rules_now = summary(profile) if profile is not None else current.in_force
    extra = {
        "review": review,
        "review_state": review_state,
        "observed": current.observed,
        "observation_how": current.field("observation_how"),
    }
    if signed is None:
        return Status("draft", "Recorded, not signed yet", **extra)
    signed_on = signed.signatures[-1].ts
    on = datetime.fromtimestamp(signed_on, tz).strftime("%d %b %Y")
    if signed.in_force != rules_now:
        return Status(
            "out_of_date",
            f"Out of date: the rules changed after it was signed on {on}",
            signed_on,
            **extra,
        )
    if signed.number != current.number:
        return Status("draft", f"Signed on {on}; changes since are not signed yet", signed_on,
                      **extra)  # fmt: skip
    return Status("signed", f"Signed on {on}", signed_on, **extra)


def review_words(found: Status) -> str:
    if found.review is None:
        return ""
    when = found.review.strftime("%d %b %Y")
    if found.review_state == "overdue":
        return f"Review overdue (was due {when})"
    if found.review_state == "due":
        return f"Review due {when}"
    return f"Next review {when}"


def remind_once(db: sqlite3.Connection, child: str, review: date, state: str, now: float) -> bool:
    """Note that this child's review reminder (for this date and state) is being sent; False
    when it was already (the caller commits after the event is written)."""
    cursor = db.execute(
        "INSERT OR IGNORE INTO agreement_reminders (child, review, state, ts) VALUES (?, ?, ?, ?)",
        (child, review.isoformat(), state, now),
    )
    return cursor.rowcount == 1


def for_child(db: sqlite3.Connection, child: str) -> list[str]:
    """The agreement in words for the child's own page: the signed version (else the newest),
    in short sentences. Empty when nothing is recorded."""
    shown = last_signed(db, child) or latest(db, child)
    if shown is None:
        return []
    lines = []
    agrees, tell = shown.field("agrees"), shown.field("will_tell")
    if agrees:
        lines.append(f"You agreed to: {agrees.rstrip('.')}.")
    if tell:
        lines.append(f"If something upsets you, you will tell: {tell.rstrip('.')}.")
    if shown.observed:
        lines.append("A grown-up will be with you when you use the internet.")
    review = shown.review_date()
    if review is not None:
        lines.append(f"You and the grown-ups will talk about it again on {review:%d %B %Y}.")
    return lines
