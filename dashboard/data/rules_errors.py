"""filterd's refusals of a child's rules, in plain words next to the field that caused them.

The rules parser (filterd/rules/parse.py) names each problem by its key path, like
`children.sam.offline[0].start: expected HH:MM, got '9pm'`. A page never shows that: MEANINGS
is the one table from key path patterns (relative to the child) to the editor's field and a
plain message ("Bedtime start: use a time like 21:30"). A problem no row matches is shown as
GENERAL at the top of the page. tests/unit/test_rules_errors.py makes every refusal the parser
can raise for a child's settings go through this table, so a new one without a row fails.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from filterd.lists.categories import BY_ID
from filterd.rules.safe_search_names import ENGINE_KEYS

GENERAL = (
    "These rules could not be saved and nothing was changed. Check the values below and try"
    " again; if it keeps happening, the rules file on this box may need fixing by whoever set"
    " it up."
)
OTHER_PART = (
    "Nothing was saved: another part of this home's rules has a problem that needs fixing"
    " first (on the Rules or Devices pages, or in the rules file by whoever set it up)."
)

BEDTIME_DAYS = {"school_nights": "school", "weekend_nights": "weekend"}

Field = str | None  # a field name on the editor's form; None: said at the top of the page
FieldOf = Callable[[re.Match[str], dict[str, Any]], Field]


class Meaning(NamedTuple):
    """One row: a key path pattern (after `children.<id>`), optionally the start of the
    parser's reason, the field it belongs to, and what the page says."""

    path: re.Pattern[str]
    reason: re.Pattern[str] | None
    field: Field | FieldOf
    message: str


class Explained(NamedTuple):
    field: Field
    message: str


def _bedtime(match: re.Match[str], body: dict[str, Any]) -> Field:
    """school_start/weekend_end... when offline[i] is one of the form's two bedtimes."""
    offline = body.get("offline")
    index = int(match["i"])
    if not isinstance(offline, list) or index >= len(offline):
        return None
    window = offline[index]
    days = window.get("days") if isinstance(window, dict) else None
    key = BEDTIME_DAYS.get(days) if isinstance(days, str) else None
    end = match["end"] if "end" in match.re.groupindex else None
    return f"{key}_{end}" if key and end else None


def _limit(match: re.Match[str], body: dict[str, Any]) -> Field:
    key = match["key"]
    return f"limit_{key}" if key == "overall" or key in BY_ID else None


def _sites(match: re.Match[str], body: dict[str, Any]) -> Field:
    return match["list"]


def _engine(match: re.Match[str], body: dict[str, Any]) -> Field:
    return match["engine"]


def _row(path: str, field: Field | FieldOf, message: str, reason: str | None = None) -> Meaning:
    return Meaning(
        re.compile(path), re.compile(reason) if reason is not None else None, field, message
    )


_I = r"\[(?P<i>\d+)\]"
MEANINGS: tuple[Meaning, ...] = (
    # the child as a whole (the id is made by the dashboard; these come from hand edits)
    _row(r"", None, "This child's entry in the rules file cannot be used as it is.", r"ids are"),
    _row(r"", None, "This child's entry in the rules file cannot be used as it is.", r"'"),
    _row(
        r"",
        None,
        "This child's entry in the rules file is not a list of settings.",
        r"expected a mapping",
    ),
    _row(
        r"\.[^.\[]+",
        None,
        "This child's entry has a setting this version does not know.",
        r"unknown key",
    ),
    # about
    _row(
        r"\.name",
        "name",
        "Name: write the child's name (ordinary letters, at most 64).",
        r"expected",
    ),
    _row(
        r"\.name",
        "name",
        "Name: plain words only, so leave out < and >.",
        r"a name is plain words",
    ),
    _row(
        r"\.name",
        "name",
        "Name: use ordinary letters and spaces, at most 64 characters.",
        r"a name is",
    ),
    _row(r"\.age_band", "age_band", "Age band: choose one from the list."),
    # bedtime
    _row(
        rf"\.offline{_I}\.(?P<end>start)",
        _bedtime,
        "Bedtime start: use a time like 21:30, or leave both empty.",
        r".*got ''$",
    ),
    _row(
        rf"\.offline{_I}\.(?P<end>end)",
        _bedtime,
        "Bedtime end: use a time like 07:00, or leave both empty.",
        r".*got ''$",
    ),
    _row(rf"\.offline{_I}\.(?P<end>start)", _bedtime, "Bedtime start: use a time like 21:30."),
    _row(
        rf"\.offline{_I}\.(?P<end>end)",
        _bedtime,
        "Bedtime end: a different time from the start, like 07:00.",
        r"same as start",
    ),
    _row(rf"\.offline{_I}\.(?P<end>end)", _bedtime, "Bedtime end: use a time like 07:00."),
    _row(
        rf"\.offline{_I}\.days(\[\d+\])?",
        None,
        "Bedtime: one of the offline times has days that are not days of the week.",
    ),
    _row(
        rf"\.offline{_I}\.[^.\[]+",
        None,
        "Bedtime: one of the offline times has a setting this version does not know.",
        r"unknown key",
    ),
    _row(
        rf"\.offline({_I})?",
        None,
        "Bedtime: one of the offline times is not a day, a start and an end.",
    ),
    # daily limits
    _row(
        r"\.limits\.(?P<key>[^.\[]+)",
        _limit,
        "Daily limit: a number of minutes from 0 to 1440.",
        r"expected minutes",
    ),
    _row(r"\.limits\.reset", None, "Daily limits: the time they start again must be like 04:00."),
    _row(
        r"\.limits\.[^.\[]+",
        None,
        "Daily limits: there is a limit for something this version does not know.",
        r"unknown key",
    ),
    _row(r"\.limits", None, "Daily limits: these are not a list of limits."),
    # what is blocked
    _row(r"\.block_categories(\[\d+\])?", "block", "Blocked categories: choose from the list."),
    _row(
        r"\.safe_search\.(?P<engine>" + "|".join(ENGINE_KEYS) + ")",
        _engine,
        "Safe search: tick the box or leave it empty.",
    ),
    _row(
        r"\.safe_search\.youtube", "youtube", "YouTube restricted mode: choose one from the list."
    ),
    _row(r"\.safe_search(\.[^.\[]+)?", None, "Safe search: these settings are not readable."),
    _row(
        r"\.services\.[^.\[]+",
        None,
        "Apps: an app is blocked and also has set hours or a daily limit; choose one on the"
        " Apps page.",
        r"blocked, but",
    ),
    _row(
        r"\.services(\.[^.\[]+)?",
        None,
        "Apps: one of the app choices is not one the Apps page offers.",
    ),
    _row(
        rf"\.allowed_during{_I}\.(start|end)",
        None,
        "Apps and set hours: a time must be like 16:00, and the end differ from the start.",
    ),
    _row(
        rf"\.allowed_during{_I}\.categories(\[\d+\])?",
        None,
        "Set hours: illegal content can never be let through; choose other categories.",
        r"illegal",
    ),
    _row(
        r"\.allowed_during.*",
        None,
        "Set hours: one of the times when apps or categories are allowed is not readable.",
    ),
    # advanced
    _row(
        r"\.(?P<list>allow|deny|always_allow)(\[\d+\])?",
        _sites,
        "Sites: one site per line, like bbc.co.uk (no spaces, no https://).",
    ),
    _row(r"\.walled_garden", "walled_garden", "Walled garden: tick the box or leave it empty."),
    _row(
        r"\.blocked_answer",
        "blocked_answer",
        "When a site is blocked: choose one of the answers in the list.",
    ),
    _row(
        rf"\.overrides{_I}\.note",
        None,
        "A note on a temporary change must be one line of ordinary text, at most 200 characters.",
    ),
    _row(
        r"\.overrides.*",
        None,
        "A temporary change (extra time, a pause, a lifted bedtime or an allowed site) is not"
        " readable; undo it from the home page.",
    ),
)


def explain(path: str, reason: str, body: dict[str, Any]) -> Explained | None:
    """The field and plain message for one of this child's refusals (`path` after
    `children.<id>`; `body` the child's rules as they were sent), or None when no row fits."""
    for meaning in MEANINGS:
        match = meaning.path.fullmatch(path)
        if match is None or (meaning.reason is not None and not meaning.reason.match(reason)):
            continue
        field = meaning.field(match, body) if callable(meaning.field) else meaning.field
        return Explained(field, meaning.message)
    return None


class Shown(NamedTuple):
    """What a page shows for a refused save: messages by field, and messages for the top."""

    by_field: dict[str, str]
    top: list[str]


def for_child(problems: list[str], child: str, body: Any) -> Shown:
    """Plain words for a child's refused save: each problem of this child next to its field
    (or at the top when it has none), others as one plain line at the top. Never a key path."""
    body = body if isinstance(body, dict) else {}
    by_field: dict[str, str] = {}
    top: list[str] = []
    prefix = f"children.{child}"
    for problem in problems:
        path, _, reason = problem.partition(": ")
        explained = None
        if path == prefix or path.startswith((prefix + ".", prefix + "[")):
            explained = explain(path[len(prefix) :], reason, body)
            if explained is None:
                top.append(GENERAL)
        else:
            top.append(OTHER_PART)
        if explained is not None and explained.field is not None:
            by_field.setdefault(explained.field, explained.message)
        elif explained is not None:
            top.append(explained.message)
    return Shown(by_field, list(dict.fromkeys(top)))


FILE_MEANINGS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(path), message)
    for path, message in (
        (r"end_of_rules", "The rules file may have been cut short: it does not end as it should."),
        (
            r"timezone",
            "The rules file names an unknown time zone for the home (a region and a city, like"
            " Europe/London).",
        ),
        (
            r"unknown_devices",
            "The choice for devices nobody has assigned is not one filterd knows.",
        ),
        (
            r"devices.*",
            "A device in the rules file has an address, name or owner that cannot be used.",
        ),
        (r"children", "The list of children in the rules file cannot be read."),
    )
)


def for_file(problems: list[str], names: Mapping[str, str] | None = None) -> list[str]:
    """Plain words for why filterd refuses the rules file on disk (a hand edit): a child's part
    as MEANINGS says it (naming the child when `names`, id to name, knows them), the rest from
    FILE_MEANINGS; never a key path. `filterd check-config` gives whoever edits the file the
    exact place. Home and Health both say refusals through this."""
    said = []
    for problem in problems:
        path, _, reason = problem.partition(": ")
        if path == "(file)":  # the file as a whole: the reason is already a sentence
            said.append(f"The rules file on this box cannot be used: {reason}")
            continue
        child = re.match(r"children\.(?P<id>[^.\[]+)", path)
        explained = explain(path[child.end() :], reason, {}) if child else None
        if child and explained is not None:
            name = (names or {}).get(child["id"])
            whose = f"{name}'s settings" if name else "one child's settings"
            said.append(f"In {whose}: {explained.message}")
            continue
        message = next((m for p, m in FILE_MEANINGS if p.fullmatch(path)), None)
        said.append(message or "Part of the rules file is written in a way filterd cannot use.")
    return list(dict.fromkeys(said))
