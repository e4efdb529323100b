"""Pause, resume, extra time and lifting bedtime: one-tap changes to a child's overrides.

Shared by the home page and the JSON API. Each is a small edit of the rules file, saved with
the version check, so a quick action never overwrites someone else's change. Times are the
home's (the rules' time zone), and overrides that have run out are judged by filterd's rules
code, whatever form their `until` is written in.
"""

from __future__ import annotations

import enum
import re
from datetime import datetime, timedelta
from typing import Any

from dashboard.actions import ActionError, Failure, saving
from dashboard.data import audit
from dashboard.data.rules_file import add_override, edited, home_time, remove_overrides
from filterd.rules.model import Rules

EXTRA_MINUTES = 30


class Action(enum.StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    EXTRA = "extra"  # EXTRA_MINUTES more today
    LIFT_BEDTIME = "lift_bedtime"  # until a time of day (HH:MM, the next one to come)


def quick_action(
    dashboard: Any, user: Any, child: str, action: str, until: str, version: str, now: datetime
) -> Rules:
    """Do the action, save and audit it; raises ActionError."""
    rules_file = dashboard.rules
    snapshot = rules_file.read()
    if snapshot.rules is None:  # a broken file: saying the child is missing would mislead
        raise ActionError(
            Failure.REFUSED,
            "Nothing was changed: the rules file has a problem (shown on the Rules page) and"
            " filterd is keeping the last rules it accepted. Fix that first, then try again.",
            list(snapshot.problems),
        )
    if child not in snapshot.rules.children:
        raise ActionError(Failure.NOT_FOUND, "That child is not in the rules.")
    try:
        kind = Action(action)
    except ValueError:
        raise ActionError(
            Failure.INVALID, "Choose pause, resume, extra time or lift bedtime."
        ) from None
    tz = snapshot.rules.timezone
    now = now.astimezone(tz)
    raw = edited(snapshot)
    if kind is Action.PAUSE:
        add_override(raw, child, {"kind": "pause"}, tz, now.timestamp())
    elif kind is Action.RESUME:
        remove_overrides(raw, child, "pause")
    elif kind is Action.EXTRA:
        midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        add_override(
            raw,
            child,
            {"kind": "extra_time", "minutes": EXTRA_MINUTES, "until": home_time(midnight)},
            tz,
            now.timestamp(),
        )
    else:
        match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", until.strip())
        if match is None:
            raise ActionError(
                Failure.INVALID, "Choose the time bedtime is lifted until, like 21:30."
            )
        moment = now.replace(hour=int(match[1]), minute=int(match[2]), second=0, microsecond=0)
        if moment <= now:
            moment += timedelta(days=1)
        add_override(
            raw, child, {"kind": "lift_bedtime", "until": home_time(moment)}, tz, now.timestamp()
        )
    with saving():
        rules = rules_file.save(raw, version, user).rules
    audit.record(dashboard.db(), user.name, f"child.{kind.value}", child, until)
    return rules
