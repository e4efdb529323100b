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
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

from dashboard.actions import ActionError, Failure, saving
from dashboard.data import audit
from dashboard.data.overrides_shown import ALLOWED_ALWAYS, active_overrides
from dashboard.data.rules_file import add_override, edited, home_time, remove_overrides
from filterd.rules.bedtime import bedtime_ends, lift_ends, next_bedtime
from filterd.rules.model import Profile, Rules

if TYPE_CHECKING:
    from dashboard.app import Dashboard
    from dashboard.data.accounts import User

EXTRA_MINUTES = 30
PAUSE_MINUTES = ("15", "30", "60")  # a pause's choices besides "until I resume" ("")


class Done(NamedTuple):
    rules: Rules
    message: str  # what happened, in plain words, for the page ("Mia has 30 more minutes...")


class Action(enum.StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    EXTRA = "extra"  # EXTRA_MINUTES more on today's limit
    EXTRA_BEDTIME = "extra_bedtime"  # bedtime starts EXTRA_MINUTES later (or ends now+30)
    LIFT_BEDTIME = "lift_bedtime"  # until a time of day (HH:MM, the next one to come)
    UNDO = "undo"  # remove one active override, named by its place in the list (`until`)


def quick_action(
    dashboard: Dashboard,
    user: User,
    child: str,
    action: str,
    until: str,
    version: str,
    now: datetime,
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
    stamp = now.timestamp()
    raw = edited(snapshot)
    profile = snapshot.rules.children[child]
    name = profile.name
    detail = until
    if kind is Action.PAUSE:
        override: dict[str, Any] = {"kind": "pause", "note": f"since {home_time(now)}"}
        end = _pause_end(until, now)
        if end is not None:
            override["until"] = home_time(end)
        add_override(raw, child, override, tz, stamp)
        message = f"{name} is paused " + (f"until {end:%H:%M}." if end else "until you resume.")
    elif kind is Action.RESUME:
        remove_overrides(raw, child, "pause")
        message = f"{name} can use the internet again."
    elif kind is Action.EXTRA:
        if not profile.limits:
            raise ActionError(Failure.INVALID, f"{name} has no time limit to add to.")
        midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        add_override(
            raw,
            child,
            {"kind": "extra_time", "minutes": EXTRA_MINUTES, "until": home_time(midnight)},
            tz,
            stamp,
        )
        message = f"{name} has {EXTRA_MINUTES} more minutes today."
    elif kind is Action.EXTRA_BEDTIME:
        later = _bedtime_later(profile, stamp, tz)
        if later is None:
            raise ActionError(Failure.INVALID, f"{name} has no bedtime in the next day.")
        moment = datetime.fromtimestamp(later, tz)
        add_override(raw, child, {"kind": "lift_bedtime", "until": home_time(moment)}, tz, stamp)
        detail = home_time(moment)
        message = f"{name} has {EXTRA_MINUTES} more minutes until {moment:%H:%M}."
    elif kind is Action.UNDO:
        message = _undo(raw, child, name, until, tz, stamp)
    else:
        moment = _next_time(until, now)
        if moment is None:
            raise ActionError(
                Failure.INVALID, "Choose the time bedtime is lifted until, like 21:30."
            )
        add_override(raw, child, {"kind": "lift_bedtime", "until": home_time(moment)}, tz, stamp)
        message = f"Bedtime is lifted for {name} until {moment:%H:%M}."
    with saving():
        rules = rules_file.save(raw, version, user).rules
    audit.record(dashboard.db(), user.name, f"child.{kind.value}", child, detail)
    return Done(rules, message)


def _next_time(text: str, now: datetime) -> datetime | None:
    """The next moment a time of day like 21:30 comes, in now's time zone; None if not one."""
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", text.strip())
    if match is None:
        return None
    moment = now.replace(hour=int(match[1]), minute=int(match[2]), second=0, microsecond=0)
    return moment + timedelta(days=1) if moment <= now else moment


def _pause_end(until: str, now: datetime) -> datetime | None:
    """When a pause ends: `until` is 15, 30 or 60 minutes, a time of day like 17:30, or empty
    (until someone resumes). Anything else is refused."""
    if until.strip() == "":
        return None
    if until.strip() in PAUSE_MINUTES:
        return now + timedelta(minutes=int(until))
    moment = _next_time(until, now)
    if moment is None:
        raise ActionError(
            Failure.INVALID, "Choose 15 minutes, 30 minutes, 1 hour or until you resume."
        )
    return moment


def _undo(raw: dict[str, Any], child: str, name: str, which: str, tz: ZoneInfo, now: float) -> str:
    """Remove the active override at place `which` (or, for ALLOWED_ALWAYS + a site, that site
    from the allow list); its plain words become `which`'s audit."""
    body = raw["children"][child]
    if which.startswith(ALLOWED_ALWAYS):
        site = which.removeprefix(ALLOWED_ALWAYS).strip()
        allow = body.get("allow")
        if not isinstance(allow, list) or site not in allow:
            raise ActionError(
                Failure.STALE, "That has already ended or was changed. Look at the card again."
            )
        allow.remove(site)
        if not allow:
            body.pop("allow")
        return f"Undone for {name}: {site} is no longer allowed always."
    overrides = body.get("overrides") or []
    shown = {str(o.index): o for o in active_overrides(overrides, tz, now)}
    found = shown.get(which.strip())
    if found is None:
        raise ActionError(
            Failure.STALE, "That has already ended or was changed. Look at the card again."
        )
    for index in sorted((found.index, *found.also), reverse=True):
        del overrides[index]  # a pause shown as one ends as one
    return f"Undone for {name}: {found.text}."


def _bedtime_later(profile: Profile, now: float, tz: ZoneInfo) -> float | None:
    """When bedtime should start if it starts EXTRA_MINUTES later: 30 minutes after now when it
    is bedtime already, else after the next bedtime start within a day; after any timed lift
    already in force, so +30 twice gives an hour. The instants are the rules code's."""
    if bedtime_ends(profile, now, tz) is not None:
        base = now
    else:
        starts = next_bedtime(profile, now, tz)
        if starts is None or starts > now + 86400:
            return None
        base = starts
    lifted_until = lift_ends(profile, now)
    if lifted_until is not None:
        base = max(base, lifted_until)
    return base + EXTRA_MINUTES * 60


def everyone(
    dashboard: Dashboard, user: User, action: str, until: str, version: str, now: datetime
) -> str:
    """Pause every child (for `until` minutes, or until resumed), or resume every child: one
    save, one audit entry. Returns what happened in plain words."""
    rules_file = dashboard.rules
    snapshot = rules_file.read()
    if snapshot.rules is None:
        raise ActionError(
            Failure.REFUSED,
            "Nothing was changed: the rules file has a problem (shown on the Rules page).",
            list(snapshot.problems),
        )
    if not snapshot.rules.children:
        raise ActionError(Failure.INVALID, "There are no children to pause.")
    if action not in (Action.PAUSE, Action.RESUME):
        raise ActionError(Failure.INVALID, "Choose pause or resume.")
    tz = snapshot.rules.timezone
    now = now.astimezone(tz)
    end = _pause_end(until, now) if action == Action.PAUSE else None
    raw = edited(snapshot)
    for child in snapshot.rules.children:
        if action == Action.RESUME:
            remove_overrides(raw, child, "pause")
            continue
        override: dict[str, Any] = {"kind": "pause", "note": f"since {home_time(now)}"}
        if end is not None:
            override["until"] = home_time(end)
        add_override(raw, child, override, tz, now.timestamp())
    with saving():
        rules_file.save(raw, version, user)
    audit.record(dashboard.db(), user.name, f"everyone.{action}", "every child", until)
    if action == Action.RESUME:
        return "Everyone can use the internet again."
    return "Everyone is paused " + (f"until {end:%H:%M}." if end else "until you resume.")
