"""The home's time zone: the rules' `timezone`, read in one place for every page and action.

Bedtimes, "today", overrides and every time shown are the home's, never the server's local
time. Before the rules name one (or while they are refused) it is filterd's default.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from filterd.rules.parse import DEFAULT_TIMEZONE, named_time_zones

HOME_TZ = ZoneInfo(DEFAULT_TIMEZONE)


def home_timezone(snapshot: Any) -> ZoneInfo:
    """The time zone of a rules snapshot: the parsed rules', else the file's own `timezone`
    if it names a real zone, else HOME_TZ."""
    if snapshot.rules is not None:
        return snapshot.rules.timezone
    raw = snapshot.raw.get("timezone") if isinstance(snapshot.raw, dict) else None
    return ZoneInfo(raw) if isinstance(raw, str) and raw in named_time_zones() else HOME_TZ
