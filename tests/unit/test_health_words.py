"""Health's words (dashboard/data/health_checks.py): filterd's refusals in the plain words of
dashboard/data/rules_errors.py (never a key path), and a self-test reply said without its
reason's value."""

from __future__ import annotations

import pytest

from dashboard.data.health_checks import refused_problems
from dashboard.data.when_words import ago
from filterd.dns.query import Reason
from filterd.selftest.profiles import plainly

NAMES = {"sam": "Sam"}


@pytest.mark.parametrize(
    ("problem", "said"),
    [
        (
            "children.sam.offline[0].start: expected HH:MM, got '25:00'",
            "In Sam's settings: Bedtime start: use a time like 21:30.",
        ),
        (
            "children.kim.limits.gaming: expected minutes or a duration like 2h, got -5",
            "In one child's settings: Daily limit: a number of minutes from 0 to 1440.",
        ),
        (
            "timezone: unknown time zone 'Europe'",
            "The rules file names an unknown time zone for the home (a region and a city, like"
            " Europe/London).",
        ),
        (
            "devices[2].owner: unknown child",
            "A device in the rules file has an address, name or owner that cannot be used.",
        ),
    ],
)
def test_filterds_refusals_are_said_by_the_one_table_without_a_key_path(
    problem: str, said: str
) -> None:
    """Health says filterd's refusals as Home does (rules_errors), never `timezone:` or
    `children.sam.offline[0]` (issue 10: Health had its own copy that showed key paths)."""
    shown = refused_problems({"ok": False, "problems": [problem]}, NAMES)
    assert shown == [said]
    path = problem.partition(": ")[0]
    assert not any(path in line or f"{path.split('.')[0]}:" in line for line in shown)


def test_ages_are_said_in_words() -> None:
    assert ago(1) == "just now"
    assert ago(40) == "40 seconds ago"
    assert ago(75) == "1 minute ago"
    assert ago(7300) == "2 hours ago"
    assert ago(3 * 86_400) == "3 days ago"


def test_a_self_test_reply_is_said_without_its_reason_value() -> None:
    assert plainly(Reason.OFFLINE) == "blocked (bedtime)"
    assert plainly(Reason.FORWARDED) == "answered as usual"
