"""Times in words, as the home reads them: one module for every page (Health, Devices, the
home page's cards, the block page and a child's own page), so the same moment is said the
same way everywhere."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

JUST_NOW = 10  # seconds: closer than this is "just now"


def ago(seconds: float) -> str:
    """'just now', '40 seconds ago', '1 minute ago', '3 hours ago', '2 days ago'. Seconds are
    said (not "just now") from 10 s: Health's "last reported 40 seconds ago" is the news."""
    seconds = max(0, int(seconds))
    if seconds < JUST_NOW:
        return "just now"
    for size, unit in ((86_400, "day"), (3600, "hour"), (60, "minute"), (1, "second")):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "just now"  # not reached: seconds >= JUST_NOW >= 1


def hour_minute(moment: float, tz: ZoneInfo) -> str:
    """'21:00' in the home's zone: a time of day whose day goes without saying."""
    return f"{datetime.fromtimestamp(moment, tz):%H:%M}"


def until(moment: float, tz: ZoneInfo, now: float) -> str:
    """When something in force ends: '21:00' today, 'Saturday 09:00' on another day."""
    when = datetime.fromtimestamp(moment, tz)
    if when.date() == datetime.fromtimestamp(now, tz).date():
        return f"{when:%H:%M}"
    return f"{when:%A %H:%M}"


def stamp(moment: float, tz: ZoneInfo, now: float) -> str:
    """When something happened: '9:05' today, '3 Nov 2026 21:00' on another day (Health)."""
    when = datetime.fromtimestamp(moment, tz)
    today = datetime.fromtimestamp(now, tz).date()
    return when.strftime("%H:%M" if when.date() == today else "%d %b %Y %H:%M").lstrip("0")
