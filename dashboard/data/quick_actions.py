"""Pause, resume, extra time and lifting bedtime: one-tap changes to a child's overrides.

Shared by the home page and the JSON API. Each is a small edit of the rules file, saved with
the version check, so a quick action never overwrites someone else's change.
"""

from __future__ import annotations

import enum
import re
from datetime import datetime, timedelta

from dashboard.data.rules_file import (
    Editor,
    RulesFile,
    add_override,
    edited,
    home_time,
    remove_overrides,
)
from filterd.rules.model import Rules

EXTRA_MINUTES = 30


class Action(enum.StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    EXTRA = "extra"  # EXTRA_MINUTES more today
    LIFT_BEDTIME = "lift_bedtime"  # until a time of day (HH:MM, the next one to come)


class ActionError(Exception):
    """A quick action that cannot be done; the message is for the person."""


def apply(
    rules_file: RulesFile,
    child: str,
    action: str,
    until: str,
    version: str,
    now: datetime,
    editor: Editor,
) -> Rules:
    """Do the action and save; raises ActionError, StaleEdit or RulesError."""
    snapshot = rules_file.read()
    if snapshot.rules is None or child not in snapshot.rules.children:
        raise ActionError("That child is not in the rules.")
    try:
        kind = Action(action)
    except ValueError:
        raise ActionError(f"Unknown action {action!r}.") from None
    now = now.astimezone(snapshot.rules.timezone)
    raw = edited(snapshot)
    if kind is Action.PAUSE:
        add_override(raw, child, {"kind": "pause"})
    elif kind is Action.RESUME:
        remove_overrides(raw, child, "pause")
    elif kind is Action.EXTRA:
        midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        add_override(
            raw,
            child,
            {"kind": "extra_time", "minutes": EXTRA_MINUTES, "until": home_time(midnight)},
        )
    else:
        match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", until.strip())
        if match is None:
            raise ActionError("Choose the time bedtime is lifted until, like 21:30.")
        moment = now.replace(hour=int(match[1]), minute=int(match[2]), second=0, microsecond=0)
        if moment <= now:
            moment += timedelta(days=1)
        add_override(raw, child, {"kind": "lift_bedtime", "until": home_time(moment)})
    return rules_file.save(raw, version, editor).rules
