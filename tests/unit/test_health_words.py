"""Health's words (dashboard/data/health_checks.py): filterd's refusals name the child in the
words every page uses, ages are said in words, and a self-test reply is said without its
reason's value."""

from __future__ import annotations

from dashboard.data.health_checks import ago, refused_problems
from filterd.dns.query import Reason
from filterd.selftest.profiles import plainly

NAMES = {"sam": "Sam"}


def test_refused_rules_name_the_child_in_the_words_every_page_uses() -> None:
    status = {
        "ok": False,
        "problems": [
            "children.sam.offline[0].start: expected HH:MM, got '25:00'",
            "timezone: unknown time zone 'Europe'",
        ],
    }
    assert refused_problems(status, NAMES) == [
        "In Sam's settings: Bedtime start: use a time like 21:30.",
        "The home's time zone in the rules file is not one filterd knows.",
    ]
    assert refused_problems({"ok": True, "problems": []}, NAMES) == []


def test_ages_are_said_in_words() -> None:
    assert ago(1) == "1 second ago"
    assert ago(75) == "1 minute ago"
    assert ago(7300) == "2 hours ago"
    assert ago(3 * 86_400) == "3 days ago"


def test_a_self_test_reply_is_said_without_its_reason_value() -> None:
    assert plainly(Reason.OFFLINE) == "blocked (bedtime)"
    assert plainly(Reason.FORWARDED) == "answered as usual"
