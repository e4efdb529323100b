"""The online-safety agreement's form: what people record beside the rules in force,
each field's label and limit, and the checks a save or a signature passes before anything is
kept, with a plain-words problem per field. Storage is dashboard.data.agreements."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, NamedTuple

from filterd.text.people import escaped, text_problem


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
RISK_LIMIT = 400  # characters for each answer of the risk assessment but the first
RISK = (  # the risk assessment the guidance asks for, each a short free text
    Field(
        "risk_level",
        "The child's level of risk",
        600,
        "Contextual safeguarding, exploitation, bullying, risk from family members,"
        " connected persons and peers.",
    ),
    *(
        Field(key, label, RISK_LIMIT)
        for key, label in (
            ("why_device", "Why the parent or carer wants to buy the device"),
            ("other_children", "Other children living at the address"),
            ("current_use", "The child's current online use"),
            ("knowledge", "Their online-safety knowledge and ability to keep safe or report"),
            ("carer_relationship", "Their relationship with their carer"),
            ("age_appropriate", "Age-appropriate use"),
            ("carer_monitoring", "The carer's ability to monitor and knowledge of online safety"),
            ("parents_carers", "The relationship between parents and carers"),
            (
                "responsibility",
                "Who is responsible for buying the device, the account on it and any loss or"
                " damage",
            ),
        )
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
    elif when < today:
        problems["review"] = "Review date: that day has passed. Choose today or a later day."
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
