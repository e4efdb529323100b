"""Local time for rules: is a window open now, when does anything next change, which day is it.

Every instant is epoch seconds and every rule time is local wall time in the home's zone, so the
BST/GMT changes move bedtime with the clocks on the wall: windows are turned into instants per
calendar day through zoneinfo, never by adding fixed hours to an instant.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from filterd.rules.model import Window

_DAY_SPAN = range(-1, 8)  # yesterday's overnight windows can still be open; a week ahead


def local_minute(now: float, tz: ZoneInfo) -> tuple[int, int]:
    """(weekday, minutes after midnight) on the wall clock at `now`."""
    local = datetime.fromtimestamp(now, tz)
    return local.weekday(), local.hour * 60 + local.minute


def window_open(window: Window, weekday: int, minute: int) -> bool:
    """Whether the window covers this local weekday and minute (days name the starting day)."""
    start, end = window.start, window.end
    if start < end:
        return weekday in window.days and start <= minute < end
    # Runs past midnight (or all day when start == end): today's part or yesterday's tail.
    if weekday in window.days and minute >= start:
        return True
    return (weekday - 1) % 7 in window.days and minute < end


def instant(day: date, minute: int, tz: ZoneInfo) -> float:
    """Epoch seconds of a wall-clock minute on a local day (a minute the clocks skip maps to
    the same wall time in the old offset, which is just after the change)."""
    hours, minutes = divmod(minute, 60)
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=tz).timestamp()


def window_edges(window: Window, now: float, tz: ZoneInfo) -> Iterable[float]:
    """Start and end instants of the window around `now` (yesterday to a week ahead)."""
    today = datetime.fromtimestamp(now, tz).date()
    for offset in _DAY_SPAN:
        day = today + timedelta(days=offset)
        if day.weekday() not in window.days:
            continue
        yield instant(day, window.start, tz)
        end_day = day if window.end > window.start else day + timedelta(days=1)
        yield instant(end_day, window.end, tz)


def next_reset(now: float, reset: int, tz: ZoneInfo) -> float:
    """The next instant at which a new day of usage starts."""
    today = datetime.fromtimestamp(now, tz).date()
    for offset in (0, 1, 2):
        moment = instant(today + timedelta(days=offset), reset, tz)
        if moment > now:
            return moment
    raise AssertionError("a reset time always comes within two days")


def usage_day(now: float, reset: int, tz: ZoneInfo) -> str:
    """The day (YYYY-MM-DD) usage at `now` counts towards: days begin at the reset time."""
    local = datetime.fromtimestamp(now, tz)
    day = local.date()
    if local.hour * 60 + local.minute < reset:
        day -= timedelta(days=1)
    return day.isoformat()
