"""What filterd recorded, read-only: each child's state now, usage today, blocked requests.

Works from filterd.db (query log, usage, status) and the rules, with the same decide code
filterd uses, so "in bedtime" on the dashboard is exactly what DNS is doing.
"""

from __future__ import annotations

import sqlite3
import time
from typing import NamedTuple

from filterd.catalogue.model import Catalogue
from filterd.db.querylog_writer import BLOCKED_CONDITION
from filterd.rules.decide import OVERALL, situation
from filterd.rules.model import Profile, Rules
from filterd.rules.schedule import usage_day

ONLINE_WINDOW = 300  # seconds: a child with a query this recent is "online now"


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


TOP_APPS = 3  # apps shown per child on the home page


def top_apps(usage: dict[str, int], catalogue: Catalogue, count: int = TOP_APPS) -> list:
    """(app name, minutes) of the apps used most today; usage keys that are app ids."""
    found = [(minutes, key) for key, minutes in usage.items() if key in catalogue.services]
    found.sort(key=lambda pair: (-pair[0], pair[1]))
    return [(catalogue.services[key].name, minutes) for minutes, key in found[:count]]


def usage_today(
    db: sqlite3.Connection | None, profile: Profile, rules: Rules, now: float
) -> dict[str, int]:
    if db is None:
        return {}
    day = usage_day(now, profile.limits.reset, rules.timezone)
    try:
        rows = db.execute(
            "SELECT category, minutes FROM usage WHERE child = ? AND day = ?", (profile.id, day)
        )
        return dict(rows.fetchall())
    except sqlite3.OperationalError:  # filterd has not written usage yet
        return {}


def child_summaries(
    db: sqlite3.Connection | None,
    rules: Rules,
    now: float | None = None,
    catalogue: Catalogue | None = None,
) -> list[ChildSummary]:
    now = time.time() if now is None else now
    summaries = []
    for profile in rules.children.values():
        used = usage_today(db, profile, rules, now)
        now_in_force = situation(profile, used, now, rules.timezone)
        limits = dict(profile.limits.categories)
        if profile.limits.overall is not None:
            limits[OVERALL] = profile.limits.overall
        online, blocked = _recent_counts(db, profile.id, now)
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
            )
        )
    return summaries


def _recent_counts(db: sqlite3.Connection | None, child: str, now: float) -> tuple[int, int]:
    """(queries in the last ONLINE_WINDOW seconds, blocked in the last 24 h) for a child."""
    if db is None:
        return 0, 0
    try:
        online = db.execute(
            "SELECT count(*) FROM queries WHERE child = ? AND ts > ?", (child, now - ONLINE_WINDOW)
        ).fetchone()[0]
        # +child: read the day's blocked rows (queries_blocked_ts), not all the child's queries
        blocked = db.execute(
            f"SELECT count(*) FROM queries WHERE ts > ? AND {BLOCKED_CONDITION} AND +child = ?",
            (now - 86_400, child),
        ).fetchone()[0]
    except sqlite3.OperationalError:  # no query log yet
        return 0, 0
    return online, blocked


def rules_status(db: sqlite3.Connection | None) -> dict | None:
    """filterd's last check of the rules file (ok, problems, checked), if it wrote one."""
    if db is None:
        return None
    import json

    try:
        row = db.execute("SELECT value, updated FROM status WHERE key = 'rules'").fetchone()
    except sqlite3.OperationalError:
        return None
    return None if row is None else {**json.loads(row[0]), "updated": row[1]}
