"""filterd.rules.bedtime: when bedtime next starts and when the one open now ends, in the
home's wall-clock time (the child's page, the block page and "until bedtime" all read these),
across midnight and across the BST/GMT changes in Europe/London."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from filterd.rules.bedtime import bedtime_ends, lift_ends, next_bedtime, pause_ends
from filterd.rules.model import Override, OverrideKind, Profile, Window
from tests.support.wall_clock import LONDON
from tests.support.wall_clock import london as at

EVERY_DAY = frozenset(range(7))
WEEKDAYS = frozenset(range(5))


def utc(instant: float | None) -> str | None:
    return None if instant is None else f"{datetime.fromtimestamp(instant, UTC):%a %Y-%m-%d %H:%M}"


def child(*offline: Window) -> Profile:
    return Profile("mia", "Mia", "9_12", 0, offline=offline)


NIGHT = Window(EVERY_DAY, 21 * 60 + 30, 8 * 60)  # 21:30 to 08:00, past midnight
SPRING = Window(EVERY_DAY, 21 * 60, 7 * 60)  # 21:00 to 07:00


@pytest.mark.parametrize(
    ("profile", "now", "starts", "ends"),
    [
        pytest.param(child(), "2026-11-28 22:00", None, None, id="no bedtime"),
        pytest.param(
            child(NIGHT), "2026-11-28 20:00", "Sat 2026-11-28 21:30", None, id="before bedtime"
        ),
        pytest.param(
            child(NIGHT),
            "2026-11-28 23:00",
            "Sun 2026-11-29 21:30",
            "Sun 2026-11-29 08:00",
            id="in bedtime before midnight: ends tomorrow",
        ),
        pytest.param(
            child(NIGHT),
            "2026-11-29 02:00",
            "Sun 2026-11-29 21:30",
            "Sun 2026-11-29 08:00",
            id="in last night's bedtime after midnight",
        ),
        pytest.param(
            child(Window(WEEKDAYS, 20 * 60 + 30, 7 * 60)),
            "2026-11-27 22:00",
            "Mon 2026-11-30 20:30",
            "Sat 2026-11-28 07:00",
            id="Friday's bedtime ends Saturday; the next starts Monday",
        ),
        pytest.param(
            child(SPRING),
            "2026-03-28 22:00",
            "Sun 2026-03-29 20:00",  # 21:00 BST
            "Sun 2026-03-29 06:00",  # 07:00 BST: the clocks went forward in the night
            id="clocks go forward in the night",
        ),
        pytest.param(
            child(SPRING),
            "2026-03-28 12:00",
            "Sat 2026-03-28 21:00",  # 21:00 GMT, before the change
            None,
            id="the evening before the clocks go forward",
        ),
        pytest.param(
            child(SPRING),
            "2026-10-24 22:00",
            "Sun 2026-10-25 21:00",  # 21:00 GMT
            "Sun 2026-10-25 07:00",  # 07:00 GMT: the clocks went back in the night
            id="clocks go back in the night",
        ),
    ],
)
def test_next_bedtime_and_when_this_one_ends(profile, now, starts, ends):
    moment = at(now)
    assert utc(next_bedtime(profile, moment, LONDON)) == starts
    assert utc(bedtime_ends(profile, moment, LONDON)) == ends


def test_a_pause_ends_at_the_latest_end_or_when_resumed():
    now = at("2026-11-28 17:00")

    def pause(until: float | None) -> Override:
        return Override(OverrideKind.PAUSE, until)

    def paused(*overrides: Override) -> Profile:
        return Profile("mia", "Mia", "9_12", 0, overrides=overrides)

    assert pause_ends(paused(), now) is None
    assert pause_ends(paused(pause(now + 600), pause(now + 1800)), now) == now + 1800
    assert pause_ends(paused(pause(now + 600), pause(None)), now) is None  # until resumed
    assert pause_ends(paused(pause(now - 1), pause(now + 600)), now) == now + 600  # one ended


def test_a_bedtime_lift_ends_at_the_latest_end_or_when_bedtime_is_put_back():
    now = at("2026-11-28 21:10")

    def lift(until: float | None) -> Override:
        return Override(OverrideKind.LIFT_BEDTIME, until)

    def lifted(*overrides: Override) -> Profile:
        return Profile("mia", "Mia", "9_12", 0, overrides=overrides)

    assert lift_ends(lifted(), now) is None
    assert lift_ends(lifted(lift(now + 1800), lift(now + 3600)), now) == now + 3600  # +30 twice
    assert lift_ends(lifted(lift(now + 1800), lift(None)), now) is None  # until put back
    assert lift_ends(lifted(lift(now - 1), lift(now + 600)), now) == now + 600  # one ended
    assert lift_ends(lifted(Override(OverrideKind.PAUSE, now + 600)), now) is None  # not a lift
