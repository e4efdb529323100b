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


def instant(day: date, minute: int, tz: ZoneInfo, fold: int = 0) -> float:
    """Epoch seconds of a wall-clock minute on a local day. In the hour the clocks repeat,
    fold=1 gives the second time round; a minute the clocks skip maps to just after the
    change (offset_change_before puts an edge at the change itself)."""
    hours, minutes = divmod(minute, 60)
    moment = datetime(day.year, day.month, day.day, hours, minutes, tzinfo=tz, fold=fold)
    return moment.timestamp()


def window_edges(window: Window, now: float, tz: ZoneInfo) -> Iterable[float]:
    """Start and end instants of the window around `now` (yesterday to a week ahead)."""
    today = datetime.fromtimestamp(now, tz).date()
    for offset in _DAY_SPAN:
        day = today + timedelta(days=offset)
        if day.weekday() not in window.days:
            continue
        end_day = day if window.end > window.start else day + timedelta(days=1)
        for fold in (0, 1):  # the same instant twice, except in the hour the clocks repeat
            yield instant(day, window.start, tz, fold)
            yield instant(end_day, window.end, tz, fold)


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
    day = datetime.fromtimestamp(now, tz).date()
    if now < instant(day, reset, tz):  # instants, not wall times: right in the repeated hour
        day -= timedelta(days=1)
    return day.isoformat()


def offset_change_before(now: float, until: float, tz: ZoneInfo) -> float:
    """`until`, or the first clock change (BST/GMT) after `now` if one comes sooner.

    Wall-clock rules cannot be carried across a change of offset: the skipped or repeated hour
    moves or repeats their edges, so what is in force is worked out again at the change.
    """
    offset = datetime.fromtimestamp(now, tz).utcoffset()
    if datetime.fromtimestamp(until, tz).utcoffset() == offset:
        return until  # no change (zones change at most twice a year, never twice in a week)
    low, high = now, until  # the offset is the old one at low and the new one at high
    while high - low > 1:
        middle = (low + high) / 2
        if datetime.fromtimestamp(middle, tz).utcoffset() == offset:
            low = middle
        else:
            high = middle
    return float(int(high))
