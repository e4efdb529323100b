"""limit.spent: raised once per child, limit and usage day, and said in plain words."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from dashboard.alerts.content import describe
from filterd.db.events import Event
from filterd.events.limits import SpentLimits
from filterd.rules.model import Limits, Profile, Rules
from filterd.rules.usage import UsageTracker
from tests.support.wall_clock import london

LON = ZoneInfo("Europe/London")


def test_each_spent_limit_is_raised_once_a_day_and_not_again_after_a_restart():
    limits = Limits(overall=60, categories={"gaming": 30}, services={"youtube": 20})
    rules = Rules(LON, {"sam": Profile("sam", "Sam Taylor", "13_15", 0, limits=limits)}, (), None)
    tracker = UsageTracker(frozenset())
    raised: list[tuple] = []

    def emit(kind, child="", device="", data=None, ts=None):
        raised.append((kind.name, child, data["limit"], data["categories"], data["app"], ts))

    watch = SpentLimits(emit)
    tracker.restore("sam", "2026-11-23", "gaming", 29, 0)
    watch.check(rules, tracker, london("2026-11-23 16:00"))
    assert raised == [], "29 of 30 minutes: nothing spent"
    tracker.restore("sam", "2026-11-23", "gaming", 30, 0)
    tracker.restore("sam", "2026-11-23", "youtube", 20, 0)
    watch.check(rules, tracker, london("2026-11-23 16:01"))
    watch.check(rules, tracker, london("2026-11-23 16:02"))
    now = london("2026-11-23 16:01")
    assert raised == [
        ("limit.spent", "sam", "gaming", ["gaming"], False, now),
        ("limit.spent", "sam", "youtube", [], True, now),
    ]

    earlier = [
        Event(
            i,
            now,
            "filterd",
            "limit.spent",
            1,
            "info",
            "sam",
            "",
            {"limit": lim, "day": "2026-11-23"},
        )
        for i, lim in enumerate(("gaming", "youtube"))
    ]
    restarted = SpentLimits(emit, earlier)
    tracker.restore("sam", "2026-11-23", "overall", 60, 0)
    restarted.check(rules, tracker, london("2026-11-23 17:00"))
    assert [r[2] for r in raised[2:]] == ["overall"], "only the newly spent overall limit"

    tracker.restore("sam", "2026-11-24", "gaming", 30, 0)
    restarted.check(rules, tracker, london("2026-11-24 16:00"))
    assert [r[2] for r in raised[3:]] == ["gaming"], "a new day, a new alert"


def test_a_spent_limit_alert_names_what_ran_out_in_plain_words():
    rules = Rules(LON, {"sam": Profile("sam", "Sam Taylor", "13_15", 0)}, (), None)

    def title(data: dict) -> str:
        event = Event(
            1, london("2026-11-23 16:00"), "filterd", "limit.spent", 1, "info", "sam", "", data
        )
        return describe(event, rules, LON, "https://box", {"youtube": "YouTube"})["title"]

    assert title({"limit": "gaming", "categories": ["gaming"], "app": False}) == (
        "Sam's daily gaming time is used up"
    )
    assert title({"limit": "overall", "categories": [], "app": False}) == (
        "Sam's daily time online is used up"
    )
    assert title({"limit": "youtube", "categories": [], "app": True}) == (
        "Sam's daily time on YouTube is used up"
    )
    assert title({"limit": "retired-app", "categories": [], "app": True}) == (
        "Sam's daily time on an app is used up"
    ), "an app no longer in the catalogue"
