"""What filterd recorded, as the dashboard shows it: each child's state now and usage today.

Read through filterd.db.read, with the same decide code filterd uses, so "in bedtime" on the
dashboard is exactly what DNS is doing.

Who sees what of a child's activity is decided here, once, for every view (home page, child
page, API): blocked requests in a high-risk category (self-harm, extremism, adult...) are shown
only to those who review them (the REVIEW permission: safeguarding leads, administrators), as
the blocked-request log is. Everyone else's views leave them out of every count and chart.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, NamedTuple

from dashboard.data.accounts import Permission
from dashboard.data.overrides_shown import (
    ShownOverride,
    active_overrides,
    allowed_always,
)
from filterd.catalogue.model import Catalogue
from filterd.db.read import FilterdReader
from filterd.rules.allowances import allowances
from filterd.rules.changes import limited_categories
from filterd.rules.decide import OVERALL, situation
from filterd.rules.model import Profile, Rules
from filterd.rules.schedule import usage_day

if TYPE_CHECKING:
    from dashboard.data.accounts import User

ONLINE_WINDOW = 300  # seconds: a child with a query this recent is "online now"


def hides_high_risk(user: User) -> bool:
    """Whether this signed-in user's views of activity leave out high-risk blocked requests."""
    return user is None or not user.may(Permission.REVIEW)


class ChildSummary(NamedTuple):
    id: str
    name: str
    online: bool
    paused: bool
    offline: bool  # inside an offline window now
    usage: dict[str, int]  # minutes today by category id, app id and OVERALL
    limits: dict[str, int]  # minutes allowed today by category id and OVERALL
    blocked_today: int
    top_apps: tuple[tuple[str, int], ...] = ()  # (app name, minutes today), most used first
    allowed: dict[str, int] | None = None  # limits with the extra time in force today
    overrides: tuple[ShownOverride, ...] = ()  # active overrides in plain words, for Undo
    has_bedtime: bool = False  # any offline window: +30 may be for bedtime


TOP_APPS = 3  # apps shown per child on the home page


def top_apps(usage: dict[str, int], catalogue: Catalogue, count: int = TOP_APPS) -> list:
    """(app name, minutes) of the apps used most today; usage keys that are app ids."""
    found = [(minutes, key) for key, minutes in usage.items() if key in catalogue.services]
    found.sort(key=lambda pair: (-pair[0], pair[1]))
    return [(catalogue.services[key].name, minutes) for minutes, key in found[:count]]


def usage_today(
    reader: FilterdReader, profile: Profile, rules: Rules, now: float
) -> dict[str, int]:
    return reader.usage_on(profile.id, usage_day(now, profile.limits.reset, rules.timezone))


def child_summaries(
    reader: FilterdReader,
    rules: Rules,
    *,
    hide_high_risk: bool,
    now: float | None = None,
    catalogue: Catalogue | None = None,
    raw: Any = None,
) -> list[ChildSummary]:
    """`raw` is the rules file as read (for each active override's place and note)."""
    now = time.time() if now is None else now
    reader = reader.as_of(now)
    summaries = []
    for profile in rules.children.values():
        used = usage_today(reader, profile, rules, now)
        now_in_force = situation(profile, used, now, rules.timezone)
        limits = limited_categories(profile)  # none for a category blocked outright
        if profile.limits.overall is not None:
            limits[OVERALL] = profile.limits.overall
        online, blocked = reader.recent_counts(
            profile.id, now, ONLINE_WINDOW, hide_high_risk=hide_high_risk
        )
        summaries.append(
            ChildSummary(
                profile.id,
                profile.name,
                online > 0,
                now_in_force.paused,
                now_in_force.offline,
                used,
                limits,
                blocked,
                tuple(top_apps(used, catalogue)) if catalogue is not None else (),
                _allowed(profile, now),
                (
                    *active_overrides(_raw_overrides(raw, profile.id), rules.timezone, now),
                    *allowed_always(_raw_child(raw, profile.id).get("allow")),
                ),
                bool(profile.offline),
            )
        )
    return summaries


def _allowed(profile: Profile, now: float) -> dict[str, int]:
    """Minutes allowed today by usage key (each limited category and OVERALL), with the extra
    time in force, as filterd counts them."""
    allowed = allowances(profile, now)
    by_key = dict(allowed.categories)
    if allowed.overall is not None:
        by_key[OVERALL] = allowed.overall
    return by_key


def _raw_child(raw: Any, child: str) -> dict:
    children = raw.get("children") if isinstance(raw, dict) else None
    body = children.get(child) if isinstance(children, dict) else None
    return body if isinstance(body, dict) else {}


def _raw_overrides(raw: Any, child: str) -> Any:
    return _raw_child(raw, child).get("overrides")
