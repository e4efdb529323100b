"""The online-safety agreement's form on its own (dashboard/data/agreement_form.py): one row per
case, from what was typed to what is kept or the plain-words problem shown next to the field."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from dashboard.data.agreement_form import (
    NAME_LIMIT,
    RISK,
    Problem,
    blank_fields,
    check_fields,
    check_signer,
    fields_from_form,
)

TODAY = date(2026, 11, 27)
GOOD = {**blank_fields(), "review": "2027-05-01"}

CASES: list[tuple[str, dict[str, Any], dict[str, str]]] = [
    # (case, fields changed from GOOD, problems expected: field -> words)
    ("a review date is enough", {}, {}),
    ("no review date", {"review": ""},
     {"review": "Review date: choose the date this agreement is next reviewed."}),
    ("a review date that is not a date", {"review": "next May"},
     {"review": "Review date: give a date, like 2027-05-01."}),
    ("a review more than two years off", {"review": "2029-01-01"},
     {"review": "Review date: choose a date within two years."}),
    ("a date someone took part with no name", {"carer_on": "2026-11-02"},
     {"carer_name": "Carer's name: say who took part on that date."}),
    ("a date still to come", {"child_name": "Sam", "child_on": "2026-12-25"},
     {"child_on": "When the child took part: that date is still to come."}),
    ("observed, but not how", {"observation": True},
     {"observation_how": "How their use is directly observed: write something here."}),
    ("a risk note over its limit", {RISK[0].key: "x" * (RISK[0].limit + 1)},
     {RISK[0].key: f"{RISK[0].label}: longer than {RISK[0].limit} characters"
                   f" ({RISK[0].limit + 1})."}),
]  # fmt: skip


@pytest.mark.parametrize(("case", "changed", "problems"), CASES, ids=[c[0] for c in CASES])
def test_each_field_is_checked_with_a_problem_in_plain_words(case, changed, problems):
    if not problems:
        assert check_fields({**GOOD, **changed}, TODAY)["review"] == "2027-05-01"
        return
    with pytest.raises(Problem) as refused:
        check_fields({**GOOD, **changed}, TODAY)
    assert refused.value.fields == problems


def test_a_kept_form_keeps_what_was_typed_with_one_kind_of_line_break():
    typed = fields_from_form(
        {**GOOD, "agrees": "Phone downstairs\r\nat <bedtime>", "observation": "on",
         "observation_how": "Carer in the room", "child_name": "Sam", "child_on": "2026-11-02"}
    )  # fmt: skip
    kept = check_fields(typed, TODAY)
    assert kept["observation"] is True and kept["child_name"] == "Sam"
    assert kept["agrees"] == "Phone downstairs\nat <bedtime>"  # the page escapes it when shown


def test_a_signature_needs_a_name_and_a_part_it_knows():
    assert check_signer("  Sam  ", "child") == ("Sam", "child")
    with pytest.raises(Problem) as refused:
        check_signer("", "headteacher")
    assert refused.value.fields == {
        "signer": "Name: type the name of the person who signed.",
        "part": "Who they are: choose one.",
    }
    with pytest.raises(Problem) as refused:
        check_signer("x" * (NAME_LIMIT + 1), "carer")
    assert refused.value.fields["signer"].startswith("Name: longer than")
