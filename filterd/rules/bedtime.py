"""When a child's bedtime (their offline windows) next starts and when the one open now ends,
and when a pause in force ends: instants worked out from wall-clock rules in the home's zone
(filterd.rules.schedule), for the pages that say "bedtime from 21:00", "until 07:00" and for
an approval "until bedtime". decide.situation says whether bedtime or a pause is in force."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from filterd.rules.model import OverrideKind, Profile
from filterd.rules.schedule import instant, local_minute, window_edges, window_open

_WEEK = range(8)  # today and a week ahead: every weekly window starts within it


def next_bedtime(profile: Profile, now: float, tz: ZoneInfo) -> float | None:
    """When the child's next offline window starts after `now`, or None with no bedtime."""
    today = datetime.fromtimestamp(now, tz).date()
    starts = [
        start
        for offset in _WEEK
        for window in profile.offline
        if (day := today + timedelta(days=offset)).weekday() in window.days
        and (start := instant(day, window.start, tz)) > now
    ]
    return min(starts, default=None)


def bedtime_ends(profile: Profile, now: float, tz: ZoneInfo) -> float | None:
    """When the bedtime open at `now` ends (the latest end of those open; lifted or not), or
    None when no offline window is open."""
    weekday, minute = local_minute(now, tz)
    ends = []
    for window in profile.offline:
        if window_open(window, weekday, minute):
            later = [edge for edge in window_edges(window, now, tz) if edge > now]
            if later:
                ends.append(min(later))
    return max(ends) if ends else None


def pause_ends(profile: Profile, now: float) -> float | None:
    """When the pause in force ends (the latest of those in force), or None when one lasts
    until a carer resumes (or none is in force)."""
    ends = [o.until for o in profile.overrides if o.kind is OverrideKind.PAUSE and o.active(now)]
    return None if None in ends or not ends else max(e for e in ends if e is not None)


def lift_ends(profile: Profile, now: float) -> float | None:
    """When the bedtime lifts in force end (the latest of them), or None when one lasts until a
    carer puts bedtime back (or none is in force)."""
    ends = [
        o.until for o in profile.overrides if o.kind is OverrideKind.LIFT_BEDTIME and o.active(now)
    ]
    return None if None in ends or not ends else max(e for e in ends if e is not None)
