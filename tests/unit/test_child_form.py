"""The child-rules form written back over a child's raw rules (dashboard/data/child_form.py):
one row per case, from the raw rules and what the carer changed to the raw rules saved."""

from __future__ import annotations

from typing import Any

import pytest

from dashboard.data.child_form import apply_form, form_from_rules

PRESET_CHILD = {"name": "Sam", "age_band": "9_12"}
WITH_EXTRAS = {
    "name": "Sam",
    "age_band": "9_12",
    "overrides": [{"kind": "pause"}],
    "allowed_during": [{"category": "gaming", "days": "weekends", "start": "10:00",
                        "end": "12:00"}],
    "offline": [{"days": "every_day", "start": "13:00", "end": "14:00"}],
    "limits": {"reset": "04:00", "overall": "3h"},
}  # fmt: skip


CASES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    # (case, old raw rules, form changes, expected raw rules)
    ("nothing changed keeps following the preset", PRESET_CHILD, {}, PRESET_CHILD),
    ("a new name", PRESET_CHILD, {"name": "Samuel"}, {"name": "Samuel", "age_band": "9_12"}),
    (
        "a later bedtime writes both bedtimes",
        PRESET_CHILD,
        {"school_start": "21:00"},
        {**PRESET_CHILD, "offline": [
            {"days": "school_nights", "start": "21:00", "end": "07:00"},
            {"days": "weekend_nights", "start": "21:30", "end": "07:30"},
        ]},
    ),
    (
        "a daily limit as typed (the parser judges it)",
        PRESET_CHILD,
        {"limit_overall": "2h", "limit_gaming": "45"},
        {**PRESET_CHILD, "limits": {"overall": "2h", "gaming": 45}},
    ),
    (
        "list lines trimmed, blank lines dropped",
        PRESET_CHILD,
        {"allow": " school.example \n\n bbc.co.uk\n"},
        {**PRESET_CHILD, "allow": ["school.example", "bbc.co.uk"]},
    ),
    (
        "walled garden on",
        PRESET_CHILD,
        {"walled_garden": True},
        {**PRESET_CHILD, "walled_garden": True},
    ),
    (
        "keys the form does not cover are kept; a cleared limit goes, reset stays",
        WITH_EXTRAS,
        {"limit_overall": ""},
        {**WITH_EXTRAS, "limits": {"reset": "04:00"}},
    ),
]  # fmt: skip


@pytest.mark.parametrize(("case", "old", "changes", "expected"), CASES, ids=[c[0] for c in CASES])
def test_the_form_written_over_the_rules(case, old, changes, expected):
    form = {**form_from_rules(old), **changes}
    assert apply_form(old, form) == expected


def test_unblocking_one_category_writes_the_whole_choice():
    form = form_from_rules(PRESET_CHILD)
    form["block"] = form["block"] - {"social"}
    saved = apply_form(PRESET_CHILD, form)
    assert "social" not in saved["block_categories"]
    assert "adult" in saved["block_categories"] and "illegal" not in saved["block_categories"]


def test_the_old_rules_are_not_changed():
    old = {"name": "Sam", "age_band": "9_12", "limits": {"overall": "3h"}}
    apply_form(old, {**form_from_rules(old), "limit_overall": ""})
    assert old == {"name": "Sam", "age_band": "9_12", "limits": {"overall": "3h"}}
