"""What a child's overrides mean in plain words, for the child card: each active one with when
it ends (each limit's allowance including extra time is filterd.rules.allowances').

The raw overrides (the rules file's list) are read here, not the parsed ones, because Undo
names an override by its place in that list and a pause's note says since when; `until` is
read by filterd's own instant_of, so the card and DNS agree on when an override ends.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from dashboard.data.when_words import until as ends_at
from filterd.lists.categories import BY_ID, label_of
from filterd.rules.parse import instant_of, override_expired

_SINCE = re.compile(r"since (\d{4}-\d\d-\d\d \d\d:\d\d)")


class ShownOverride(NamedTuple):
    index: int  # its place in the child's `overrides` list: what Undo removes
    kind: str
    text: str  # "+30 min on today's limit", "bedtime lifted until 22:00", "paused since 16:59"
    also: tuple[int, ...] = ()  # more places Undo removes with it (pauses shown as one)
    undo: str = ""  # what Undo posts when it is not a place in `overrides` (ALLOWED_ALWAYS)


def _label(category: Any) -> str:
    if isinstance(category, str) and category in BY_ID:
        return label_of(category)
    return "today's limit"


def active_overrides(raw: Any, tz: ZoneInfo, now: float) -> list[ShownOverride]:
    """The overrides in force at `now` in a child's raw `overrides` list, in plain words."""
    shown: list[ShownOverride] = []
    pauses: list[tuple[int, dict]] = []
    for index, item in enumerate(raw if isinstance(raw, list) else []):
        if not isinstance(item, dict) or override_expired(item, tz, now):
            continue
        until = instant_of(item["until"], tz) if item.get("until") is not None else None
        ends = f"until {ends_at(until, tz, now)}" if until is not None else ""
        kind = item.get("kind")
        if kind == "pause":
            pauses.append((index, item))  # shown once, below: a pause on top of a pause
            continue
        if kind == "extra_time":
            # It lasts for today's limit (until the daily reset), not "until 00:00".
            minutes = item.get("minutes")
            category = item.get("category")
            text = f"+{minutes} min " + (f"of {_label(category)} today" if category else "")
            text += "" if category else "on today's limit"
        elif kind == "lift_bedtime":
            text = f"bedtime lifted {ends}"
        elif kind == "allow_site":
            text = f"site allowed: {item.get('site')} {ends}"  # the name keeps its case
        else:
            continue
        shown.append(ShownOverride(index, str(kind), text.strip()))
    if pauses:
        shown.insert(0, _one_pause(pauses, tz, now))
    return shown


ALLOWED_ALWAYS = "allow:"  # Undo of a site on the allow list: this, then the site's name


def allowed_always(raw_allow: Any) -> list[ShownOverride]:
    """The sites on a child's allow list (an "Allow always" answer puts one there): in force
    with no end, so the card lists them too, each with an Undo that takes it off the list."""
    sites = [s for s in raw_allow if isinstance(s, str)] if isinstance(raw_allow, list) else []
    return [
        ShownOverride(-1, "allow", f"site allowed always: {site}", (), ALLOWED_ALWAYS + site)
        for site in sites
    ]


def _one_pause(pauses: list[tuple[int, dict]], tz: ZoneInfo, now: float) -> ShownOverride:
    """Every pause in force as one (pause everyone on top of a child's own pause): since the
    earliest, until the latest end (or until resumed); Undo ends them all."""
    starts, ends = [], []
    for _, item in pauses:
        since = _SINCE.search(str(item.get("note") or ""))
        if since:
            starts.append(instant_of(since[1], tz))
        ends.append(instant_of(item["until"], tz) if item.get("until") is not None else None)
    text = f"paused since {ends_at(min(starts), tz, now)}" if starts else "paused"
    if None in ends:
        text += ", until you resume"
    else:
        text += f", until {ends_at(max(e for e in ends if e is not None), tz, now)}"
    first, *rest = (index for index, _ in pauses)
    return ShownOverride(first, "pause", text, tuple(rest))
