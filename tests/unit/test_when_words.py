"""Times in words come from one module (dashboard/data/when_words.py). Issue 10: Devices said
"just now" for anything under a minute while Health said "40 seconds ago" for the same kind of
moment, and the home page's cards said "until Sat 09:00" where the child's own page said "until
Saturday 09:00" for the same pause."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from dashboard.child_side import own_page, why
from dashboard.data import health_checks, list_health, overrides_shown
from dashboard.data.when_words import ago, hour_minute, stamp, until

LON = ZoneInfo("Europe/London")
FRIDAY_NOON = datetime(2026, 11, 27, 12, 0, tzinfo=LON).timestamp()


def test_how_long_ago_is_said_one_way() -> None:
    assert [ago(s) for s in (0, 9, 40, 60, 7300, 3 * 86_400)] == [
        "just now",
        "just now",
        "40 seconds ago",
        "1 minute ago",
        "2 hours ago",
        "3 days ago",
    ]


def test_an_end_time_is_said_one_way_on_every_page() -> None:
    saturday_nine = datetime(2026, 11, 28, 9, 0, tzinfo=LON).timestamp()
    assert until(saturday_nine, LON, FRIDAY_NOON) == "Saturday 09:00"
    assert until(FRIDAY_NOON + 3600, LON, FRIDAY_NOON) == "13:00"
    assert hour_minute(saturday_nine, LON) == "09:00"
    assert stamp(FRIDAY_NOON - 3 * 86_400, LON, FRIDAY_NOON) == "24 Nov 2026 12:00"
    assert health_checks.Clock(LON, FRIDAY_NOON).at(FRIDAY_NOON - 60) == "11:59"


def test_no_page_keeps_its_own_copy() -> None:
    for module in (health_checks, list_health, overrides_shown, own_page, why):
        assert not hasattr(module, "_clock"), module.__name__
    from dashboard.data import devices

    assert not hasattr(devices, "ago")
    assert health_checks.ago is ago and list_health.ago is ago
