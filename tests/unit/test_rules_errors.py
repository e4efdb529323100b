"""Every refusal filterd's rules parser can raise for a child's settings has a plain message
(and, for the editor's fields, the field it belongs to) in dashboard.data.rules_errors.

The test finds every `self.fail(...)` the parser can reach for a child by reading parse.py (and
the shared mapping and section checks in validate.py), runs the examples below through the
real parser while recording which of those calls fired, and fails when one was never reached:
a new refusal needs an example here and, when no row fits it, a row in MEANINGS.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import sys
from pathlib import Path

import pytest

from dashboard.data import rules_errors
from dashboard.data.rules_errors import GENERAL, OTHER_PART, for_child
from filterd import validate
from filterd.rules import parse
from filterd.rules.parse import RulesError, parse_rules

SAM = {"name": "Sam", "age_band": "9_12"}
WINDOW = {"days": "school_nights", "start": "21:00", "end": "07:00"}
LATER = {"start": "10:00", "end": "11:00"}
SOON = "2030-01-01 10:00"

# (what is wrong, the child's rules, the field it belongs to, the start of the message)
EXAMPLES = [
    ("not a mapping", "sam", None, "This child's entry in the rules file is not"),
    ("unknown key", {**SAM, "colour": "red"}, None, "This child's entry has a setting"),
    ("no age band", {"name": "Sam"}, "age_band", "Age band: choose one"),
    ("empty name", {**SAM, "name": " "}, "name", "Name: write the child's name"),
    ("name with a bell", {**SAM, "name": "Sam\a"}, "name", "Name: use ordinary letters"),
    ("categories not a list", {**SAM, "block_categories": "adult"}, "block", "Blocked categories"),
    ("unknown category", {**SAM, "block_categories": ["nope"]}, "block", "Blocked categories"),
    ("walled garden yes", {**SAM, "walled_garden": "yes"}, "walled_garden", "Walled garden:"),
    ("unknown answer style", {**SAM, "blocked_answer": "page"}, "blocked_answer", "When a site"),
    (
        "app blocked and limited",
        {**SAM, "services": {"tiktok": "blocked"}, "limits": {"tiktok": 30}},
        None,
        "Apps: an app is blocked",
    ),
    ("unknown app", {**SAM, "services": {"nope": "allowed"}}, None, "Apps: one of"),
    ("apps not a mapping", {**SAM, "services": ["tiktok"]}, None, "Apps: one of"),
    ("app choice", {**SAM, "services": {"tiktok": "maybe"}}, None, "Apps: one of"),
    ("sites not a list", {**SAM, "allow": "bbc.co.uk"}, "allow", "Sites: one site per line"),
    ("not a site", {**SAM, "deny": ["not a site"]}, "deny", "Sites: one site per line"),
    (
        "school bedtime 9pm",
        {**SAM, "offline": [{**WINDOW, "start": "9pm"}]},
        "school_start",
        "Bedtime start: use a time like 21:30",
    ),
    (
        "weekend bedtime end",
        {**SAM, "offline": [WINDOW, {**WINDOW, "days": "weekend_nights", "end": "7"}]},
        "weekend_end",
        "Bedtime end: use a time like 07:00",
    ),
    (
        "bedtime end as start",
        {**SAM, "offline": [{**WINDOW, "end": "21:00"}]},
        "school_end",
        "Bedtime end: a different time",
    ),
    (
        "other offline days",
        {**SAM, "offline": [{**WINDOW, "days": "someday"}]},
        None,
        "Bedtime: one of the offline times has days",
    ),
    (
        "a day in a list",
        {**SAM, "offline": [{**WINDOW, "days": ["mon", "funday"]}]},
        None,
        "Bedtime: one of the offline times has days",
    ),
    (
        "offline not a list",
        {**SAM, "offline": "21:00"},
        None,
        "Bedtime: one of the offline times is not",
    ),
    (
        "offline item",
        {**SAM, "offline": ["21:00"]},
        None,
        "Bedtime: one of the offline times is not",
    ),
    (
        "offline unknown key",
        {**SAM, "offline": [{**WINDOW, "colour": 1}]},
        None,
        "Bedtime: one of the offline times has a setting",
    ),
    ("set hours with nothing", {**SAM, "allowed_during": [LATER]}, None, "Set hours: one of"),
    (
        "set hours illegal",
        {**SAM, "allowed_during": [{**LATER, "categories": ["illegal"]}]},
        None,
        "Set hours: illegal",
    ),
    (
        "set hours apps",
        {**SAM, "allowed_during": [{**LATER, "services": "tiktok"}]},
        None,
        "Set hours: one of",
    ),
    (
        "set hours time",
        {**SAM, "allowed_during": [{**LATER, "start": "10", "categories": ["gaming"]}]},
        None,
        "Apps and set hours: a time",
    ),
    (
        "overall limit lots",
        {**SAM, "limits": {"overall": "lots"}},
        "limit_overall",
        "Daily limit: a number of minutes from 0 to 1440",
    ),
    (
        "gaming limit",
        {**SAM, "limits": {"gaming": 5000}},
        "limit_gaming",
        "Daily limit: a number of minutes",
    ),
    ("app limit", {**SAM, "limits": {"tiktok": "x"}}, None, "Daily limit: a number of minutes"),
    ("limit for nothing", {**SAM, "limits": {"nope": 5}}, None, "Daily limits: there is a limit"),
    ("limits not a mapping", {**SAM, "limits": 5}, None, "Daily limits: these are not"),
    ("reset time", {**SAM, "limits": {"reset": "4am"}}, None, "Daily limits: the time"),
    ("google yes", {**SAM, "safe_search": {"google": "yes"}}, "google", "Safe search: tick"),
    ("youtube mode", {**SAM, "safe_search": {"youtube": "maybe"}}, "youtube", "YouTube restricted"),
    ("safe search text", {**SAM, "safe_search": "on"}, None, "Safe search: these settings"),
    ("overrides not a list", {**SAM, "overrides": "pause"}, None, "A temporary change"),
    ("override kind", {**SAM, "overrides": [{"kind": "nope"}]}, None, "A temporary change"),
    (
        "override until",
        {**SAM, "overrides": [{"kind": "pause", "until": "tomorrow"}]},
        None,
        "A temporary change",
    ),
    (
        "extra time no end",
        {**SAM, "overrides": [{"kind": "extra_time", "minutes": 30}]},
        None,
        "A temporary change",
    ),
    (
        "pause minutes",
        {**SAM, "overrides": [{"kind": "pause", "minutes": 30}]},
        None,
        "A temporary change",
    ),
    (
        "pause category",
        {**SAM, "overrides": [{"kind": "pause", "category": "gaming"}]},
        None,
        "A temporary change",
    ),
    (
        "allow no site",
        {**SAM, "overrides": [{"kind": "allow_site", "until": SOON}]},
        None,
        "A temporary change",
    ),
    (
        "pause site",
        {**SAM, "overrides": [{"kind": "pause", "site": "bbc.co.uk"}]},
        None,
        "A temporary change",
    ),
    (
        "note bell",
        {**SAM, "overrides": [{"kind": "pause", "note": "hi\a"}]},
        None,
        "A note on a temporary change",
    ),
]
BAD_IDS = [("Sam!", "ids are lower-case"), ("household", "reserved")]


def _rules_text(children: dict) -> str:
    return json.dumps({"children": children})  # JSON is YAML


def _problems(children: dict) -> list[str]:
    with pytest.raises(RulesError) as refused:
        parse_rules(_rules_text(children))
    return refused.value.problems


def _sites() -> set[tuple[str, int, int]]:
    """(file, first line, last line) of every parser refusal reachable for a child."""
    sites = set()
    tree = ast.parse(inspect.getsource(parse))
    reader = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "_RulesReader")
    for method in reader.body:
        if not isinstance(method, ast.FunctionDef) or method.name in (
            "timezone",
            "unknown",
            "devices",
        ):
            continue
        for node in ast.walk(method):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "fail"
            ):
                first = node.args[0]
                if method.name == "rules" and not (
                    isinstance(first, ast.Name) and first.id == "path"
                ):
                    continue  # the file's own keys, not a child's
                sites.add((parse.__file__, node.lineno, node.end_lineno))
    for shared in (validate.Validator.mapping, validate.Validator.section):
        source = inspect.getsource(shared)
        start = inspect.getsourcelines(shared)[1]
        for node in ast.walk(
            ast.parse(inspect.cleandoc("\n" + source) if source[0] == " " else source)
        ):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "fail"
            ):
                sites.add((validate.__file__, start + node.lineno - 1, start + node.end_lineno - 1))
    return sites


@pytest.mark.parametrize(
    ("what", "body", "field", "message"), EXAMPLES, ids=[e[0] for e in EXAMPLES]
)
def test_a_refusal_shows_a_plain_message_by_its_field(what, body, field, message):
    problems = _problems({"sam": body})
    shown = for_child(problems, "sam", body)
    said = [*shown.by_field.values(), *shown.top]
    assert GENERAL not in shown.top, f"no row for {problems}"
    if field is None:
        assert any(m.startswith(message) for m in shown.top), (problems, shown)
    else:
        assert shown.by_field.get(field, "").startswith(message), (problems, shown)
    for text in said:  # never a key path, a reason code or an internal id
        assert "children." not in text and "[" not in text and "_" not in text and "sam" not in text


@pytest.mark.parametrize(("child", "reason"), BAD_IDS)
def test_an_unusable_id_is_said_without_showing_it(child, reason):
    problems = _problems({child: SAM})
    assert reason in problems[0]
    shown = for_child(problems, child, SAM)
    assert shown.top == ["This child's entry in the rules file cannot be used as it is."]


def test_another_childs_problem_or_an_unknown_one_says_something_general():
    shown = for_child(["children.alex.age_band: expected one of", "devices[0].mac: x"], "sam", SAM)
    assert shown == rules_errors.Shown({}, [OTHER_PART])
    assert for_child(["children.sam.who: something new"], "sam", SAM).top == [GENERAL]


def test_every_refusal_the_parser_can_raise_for_a_child_has_an_example():
    reached: set[tuple[str, int]] = set()
    real_fail = parse._RulesReader.fail

    def recording_fail(self, path, reason):
        frame = sys._getframe(1)
        reached.add((frame.f_code.co_filename, frame.f_lineno))
        real_fail(self, path, reason)

    parse._RulesReader.fail = recording_fail
    try:
        for _, body, _, _ in EXAMPLES:
            _problems({"sam": body})
        for child, _ in BAD_IDS:
            _problems({child: SAM})
    finally:
        parse._RulesReader.fail = real_fail
    sites = _sites()
    assert len(sites) >= 40
    missed = [
        f"{Path(file).name}:{first}"
        for file, first, last in sorted(sites)
        if not any(f == file and first <= line <= last for f, line in reached)
    ]
    assert not missed, (
        f"parser refusals with no example (add one, and a row if none fits): {missed}"
    )


def test_a_bad_bedtime_outside_the_forms_two_nights_is_said_at_the_top():
    body = {**SAM, "offline": [{"days": ["mon"], "start": "9pm", "end": "07:00"}]}
    shown = for_child(_problems({"sam": body}), "sam", body)
    assert shown.by_field == {} and shown.top == ["Bedtime start: use a time like 21:30."]
    assert re.search(r"\d", shown.top[0])
