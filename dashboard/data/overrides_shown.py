"""What a child's overrides mean in plain words, for the child card: each active one with when
it ends, and each limit's allowance including extra time.

The raw overrides (the rules file's list) are read here, not the parsed ones, because Undo
names an override by its place in that list and a pause's note says since when; `until` is
read by filterd's own instant_of, so the card and DNS agree on when an override ends.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from filterd.lists.categories import BY_ID, label_of
from filterd.rules.model import Profile
from filterd.rules.parse import instant_of, override_expired

OVERALL = "overall"
_SINCE = re.compile(r"since (\d{4}-\d\d-\d\d \d\d:\d\d)")


class ShownOverride(NamedTuple):
    index: int  # its place in the child's `overrides` list: what Undo removes
    kind: str
    text: str  # "+30 min until 21:00", "bedtime lifted until 22:00", "paused since 16:59"


def _label(category: Any) -> str:
    if isinstance(category, str) and category in BY_ID:
        return label_of(category)
    return "today's limit"


def active_overrides(raw: Any, tz: ZoneInfo, now: float) -> list[ShownOverride]:
    """The overrides in force at `now` in a child's raw `overrides` list, in plain words."""
    shown: list[ShownOverride] = []
    for index, item in enumerate(raw if isinstance(raw, list) else []):
        if not isinstance(item, dict) or override_expired(item, tz, now):
            continue
        until = instant_of(item["until"], tz) if item.get("until") is not None else None
        ends = f"until {until(until, tz, now)}" if until is not None else ""
        kind = item.get("kind")
        if kind == "pause":
            since = _SINCE.search(str(item.get("note") or ""))
            started = instant_of(since[1], tz) if since else None
            text = f"paused since {until(started, tz, now)}" if started else "paused"
            text += f", {ends}" if ends else ", until you resume"
        elif kind == "extra_time":
            minutes = item.get("minutes")
            category = item.get("category")
            text = f"+{minutes} min" + (f" of {_label(category)}" if category else "")
            text += f" {ends}"
        elif kind == "lift_bedtime":
            text = f"bedtime lifted {ends}"
        elif kind == "allow_site":
            text = f"{item.get('site')} allowed {ends}"
        else:
            continue
        shown.append(ShownOverride(index, str(kind), text.strip()))
    return shown


def allowances(profile: Profile, now: float) -> dict[str, int]:
    """Minutes allowed today per limited category and OVERALL, with the extra time in force,
    counted as filterd's decide.situation counts it."""
    everything = 0
    extra: dict[str, int] = {}
    for override in profile.overrides:
        if override.kind.value != "extra_time" or not override.active(now):
            continue
        if override.category is None:
            everything += override.minutes
        else:
            extra[override.category] = extra.get(override.category, 0) + override.minutes
    allowed = {
        category: minutes + everything + extra.get(category, 0)
        for category, minutes in profile.limits.categories.items()
    }
    if profile.limits.overall is not None:
        allowed[OVERALL] = profile.limits.overall + everything + sum(extra.values())
    return allowed
