"""Each child's online-safety agreement (issue 17): what the rules in force say, plus what only
people can record (who took part, the risk assessment, the child's own words, the review date,
direct observation), kept as versions that are never changed or deleted.

A version holds the plain-words summary of the child's rules when it was made
(filterd.rules.changes.in_force) and the people's fields as JSON. Saving the form makes a new
version; so does a rules change that changes the summary after a version was made
(`follow_rules`): the signed one is then out of date until the new draft is signed. Each version
names the audit entries between it and the version before (`audit_after`, `audit_upto`), so the
rule changes behind it can be listed. Signatures are rows of their own (a name typed, who recorded
it, when), also append-only. The tables are defined in dashboard.data.db (AGREEMENTS).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from filterd.rules.changes import in_force
from filterd.rules.model import Profile, Rules
from filterd.text.people import escaped, text_problem

RULES_CHANGED = "(rules changed)"  # the author of a draft a rules change started
REVIEW_SOON_DAYS = 7  # a review date this close, or passed, is a reminder
RULE_ACTIONS = ("rules.save", "rules.hand_edit")  # audit actions that change rules


class Field(NamedTuple):
    key: str
    label: str
    limit: int  # characters
    hint: str = ""


PEOPLE = (  # who took part: (key, their part)
    ("child", "The child"),
    ("carer", "Carer"),
    ("parent", "Parent"),
    ("social_worker", "Social worker"),
    ("iro", "Independent reviewing officer"),
)
NAME_LIMIT = 100
RISK = (  # the risk assessment the guidance asks for, each a short free text
    Field(
        "risk_level",
        "The child's level of risk",
        600,
        "Contextual safeguarding, exploitation, bullying, risk from family members,"
        " connected persons and peers.",
    ),
    Field("why_device", "Why the parent or carer wants to buy the device", 400),
    Field("other_children", "Other children living at the address", 400),
    Field("current_use", "The child's current online use", 400),
    Field(
        "knowledge",
        "Their online-safety knowledge and ability to keep safe or report",
        400,
    ),
    Field("carer_relationship", "Their relationship with their carer", 400),
    Field("age_appropriate", "Age-appropriate use", 400),
    Field("carer_monitoring", "The carer's ability to monitor and knowledge of online safety", 400),
    Field("parents_carers", "The relationship between parents and carers", 400),
    Field(
        "responsibility",
        "Who is responsible for buying the device, the account on it and any loss or damage",
        400,
    ),
)
CHILD_WORDS = (
    Field("agrees", "What the child agrees to, in their own words", 500),
    Field("will_tell", "Who they will tell if something upsets them", 200),
)
OBSERVATION_HOW = Field(
    "observation_how", "How their use is directly observed", 300, "Who watches, when and where."
)
SIGN_PARTS = (*(part for part in PEOPLE), ("other", "Someone else"))
SIGN_PART_LABELS = dict(SIGN_PARTS)


class Problem(Exception):
    """Bad input: `fields` maps each field's key to what is wrong, in plain words."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(fields.values()))
        self.fields = fields


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
    def observed(self) -> bool:
        return bool(self.fields.get("observation"))

    def review_date(self) -> date | None:
        try:
            return date.fromisoformat(self.field("review"))
        except ValueError:
            return None


def blank_fields() -> dict[str, Any]:
    """The form's fields before anything is recorded."""
    found: dict[str, Any] = {"observation": False, "review": ""}
    for key, _ in PEOPLE:
        found[f"{key}_name"] = ""
        found[f"{key}_on"] = ""
    for item in (*RISK, *CHILD_WORDS, OBSERVATION_HOW):
        found[item.key] = ""
    return found


def fields_from_form(form: Any) -> dict[str, Any]:
    """The form's values as typed (kept as they are, to show again beside a problem)."""
    found = blank_fields()
    for key in found:
        if key == "observation":
            found[key] = form.get(key) in ("on", "yes", "1", "true")
        else:
            found[key] = str(form.get(key, ""))[:5000].strip()
    return found


def check_fields(fields: dict[str, Any], today: date) -> dict[str, Any]:
    """The fields cleaned for keeping; raises Problem naming every bad field."""
    problems: dict[str, str] = {}
    clean: dict[str, Any] = {"observation": bool(fields.get("observation"))}

    def text(key: str, label: str, limit: int, required: bool = False) -> None:
        value = str(fields.get(key, "")).strip()
        if not value:
            if required:
                problems[key] = f"{label}: write something here."
            clean[key] = ""
            return
        problem = text_problem(value, limit, multiline=True)
        if problem is not None:
            problems[key] = f"{label}: {problem}."
        clean[key] = escaped(value.replace("\r\n", "\n")) if problem is None else value

    for key, label in PEOPLE:
        text(f"{key}_name", f"{label}'s name", NAME_LIMIT)
        on = str(fields.get(f"{key}_on", "")).strip()
        clean[f"{key}_on"] = on
        if on:
            when, took_part = _date(on), f"When {label.lower()} took part"
            if when is None:
                problems[f"{key}_on"] = f"{took_part}: give a date, like 2026-11-02."
            elif when > today:
                problems[f"{key}_on"] = f"{took_part}: that date is still to come."
        if on and not clean.get(f"{key}_name"):
            problems.setdefault(f"{key}_name", f"{label}'s name: say who took part on that date.")
    for item in (*RISK, *CHILD_WORDS):
        text(item.key, item.label, item.limit)
    text(OBSERVATION_HOW.key, OBSERVATION_HOW.label, OBSERVATION_HOW.limit, clean["observation"])
    review = str(fields.get("review", "")).strip()
    clean["review"] = review
    when = _date(review)
    if not review:
        problems["review"] = "Review date: choose the date this agreement is next reviewed."
    elif when is None:
        problems["review"] = "Review date: give a date, like 2027-05-01."
    elif when > today + timedelta(days=2 * 366):
        problems["review"] = "Review date: choose a date within two years."
    if problems:
        raise Problem(problems)
    return clean


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
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


def check_signer(signer: str, part: str) -> tuple[str, str]:
    """The typed name and part, cleaned; raises Problem naming the bad one."""
    signer = signer.strip()
    problems = {}
    if not signer:
        problems["signer"] = "Name: type the name of the person who signed."
    else:
        problem = text_problem(signer, NAME_LIMIT)
        if problem is not None:
            problems["signer"] = f"Name: {problem}."
    if part not in SIGN_PART_LABELS:
        problems["part"] = "Who they are: choose one."
    if problems:
        raise Problem(problems)
    return escaped(signer), part


def follow_rules(db: sqlite3.Connection, rules: Rules | None, now: float) -> list[Version]:
    """Start a draft for each child whose rules no longer say what their latest version says
    (a rules change since): the people's fields carried over, the new rules in it. Returns
    the drafts made (the caller audits them). Refused rules (None) change nothing."""
    made: list[Version] = []
    if rules is None:
        return made
    children = [r[0] for r in db.execute("SELECT DISTINCT child FROM agreement_versions")]
    for child in children:
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
                                again.fields, now)
                )  # fmt: skip
            db.commit()
        except BaseException:
            db.rollback()
            raise
    return made


def rule_changes(db: sqlite3.Connection, child: str, name: str, after: int, upto: int) -> list:
    """The audit entries (ts, user, detail) that changed this child's rules in an id range."""
    rows = db.execute(
        "SELECT ts, user, target, detail FROM audit WHERE id > ? AND id <= ? AND action IN"
        f" ({', '.join('?' * len(RULE_ACTIONS))}) ORDER BY id",
        (after, upto, *RULE_ACTIONS),
    ).fetchall()
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
