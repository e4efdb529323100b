"""Health's words (dashboard/data/health_checks.py): filterd's key paths become the names a carer
knows, and a self-test reply is said without its reason's value."""

from __future__ import annotations

import pytest

from dashboard.data.health_checks import ago, plain_problem
from filterd.dns.query import Reason
from filterd.selftest.profiles import plainly

NAMES = {"sam": "Sam"}


@pytest.mark.parametrize(
    ("problem", "said"),
    [
        (
            "children.sam.offline[0].start: expected HH:MM, got '25:00'",
            "Sam's rules, bedtime (number 1), start: expected HH:MM, got '25:00'",
        ),
        (
            "children.kim.limits.gaming: expected a duration",
            "kim's rules, daily limits, gaming: expected a duration",
        ),
        ("timezone: unknown time zone 'Europe'", "timezone: unknown time zone 'Europe'"),
        ("devices[2].owner: unknown child", "devices (number 3), owner: unknown child"),
        ("the file ends before end_of_rules", "the file ends before end_of_rules"),
    ],
)
def test_filterds_problems_name_the_child_and_the_setting(problem: str, said: str) -> None:
    assert plain_problem(problem, NAMES) == said


def test_ages_are_said_in_words() -> None:
    assert ago(1) == "1 second ago"
    assert ago(75) == "1 minute ago"
    assert ago(7300) == "2 hours ago"
    assert ago(3 * 86_400) == "3 days ago"


def test_a_self_test_reply_is_said_without_its_reason_value() -> None:
    assert plainly(Reason.OFFLINE) == "blocked (bedtime)"
    assert plainly(Reason.FORWARDED) == "answered as usual"
