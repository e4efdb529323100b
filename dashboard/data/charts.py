"""A child's activity as chart data: queries by hour today, minutes online, categories, sites.

Read-only from filterd.db; every query reads one child's rows by the queries_child_ts index
(child = ? AND ts range). "Today" and the hours are the home's, in the rules' time zone;
"this week" is the last 7 days: today and the 6 days before it, from home midnight.
The bar geometry is worked out here so the template only writes SVG attributes (the
Content-Security-Policy forbids inline scripts and style attributes).
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from filterd.db.querylog_writer import BLOCKED_CONDITION
from filterd.rules.decide import OVERALL
from filterd.rules.schedule import usage_day

DAYS = 7
TOP_SITES = 10
QUARTER = 900  # seconds: every time zone's offset is a whole number of quarter hours
# Second-level labels under a country code that people register below (bbc.co.uk, abc.net.au).
SECOND_LEVEL = {"co", "com", "org", "net", "ac", "gov", "edu", "sch", "nhs", "ltd", "plc", "me"}

# Chart geometry, in SVG user units (the SVG scales to its container with viewBox).
WIDTH = 600
PLOT_HEIGHT = 120
ROW_HEIGHT = 22
LABEL_WIDTH = 170


class Bar(NamedTuple):
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float


class CategoryRow(NamedTuple):
    category: str
    allowed: int
    blocked: int
    allowed_width: float
    blocked_width: float


class Activity(NamedTuple):
    today: str  # the home date, YYYY-MM-DD
    hours: list[Bar]  # 24: queries per home hour today
    hours_total: int
    days: list[Bar]  # 7, oldest first: minutes online per usage day
    categories: list[CategoryRow]  # this week, most queries first
    sites: list[Bar]  # this week's top sites, most queries first
    available: bool  # False when filterd.db is missing or has no query log yet


def site_of(name: str) -> str:
    """The registrable-ish part of a name: its last two labels, or three for co.uk-style."""
    labels = [label for label in name.rstrip(".").lower().split(".") if label]
    keep = 2
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in SECOND_LEVEL:
        keep = 3
    return ".".join(labels[-keep:])


def _midnight(day: date, tz: ZoneInfo) -> float:
    return datetime.combine(day, time(), tz).timestamp()


def _columns(values: list[tuple[str, int]], gap: float = 2.0) -> list[Bar]:
    """Vertical bars filling WIDTH x PLOT_HEIGHT, scaled to the largest value."""
    top = max((v for _, v in values), default=0) or 1
    step = WIDTH / max(len(values), 1)
    bars = []
    for i, (label, value) in enumerate(values):
        height = round(PLOT_HEIGHT * value / top, 1)
        bars.append(
            Bar(
                label,
                value,
                round(i * step + gap / 2, 1),
                round(PLOT_HEIGHT - height, 1),
                round(step - gap, 1),
                height,
            )
        )
    return bars


def _rows(values: list[tuple[str, int]]) -> list[Bar]:
    """Horizontal bars, one per ROW_HEIGHT, after a LABEL_WIDTH column of names."""
    top = max((v for _, v in values), default=0) or 1
    span = WIDTH - LABEL_WIDTH - 50
    return [
        Bar(
            label,
            value,
            LABEL_WIDTH,
            i * ROW_HEIGHT + 3,
            round(span * value / top, 1),
            ROW_HEIGHT - 6,
        )
        for i, (label, value) in enumerate(values)
    ]


def hour_counts(db: sqlite3.Connection, child: str, day: date, tz: ZoneInfo) -> list[int]:
    """Queries in each home hour (0-23) of a day; the repeated autumn hour counts once."""
    start, end = _midnight(day, tz), _midnight(day + timedelta(days=1), tz)
    counts = [0] * 24
    rows = db.execute(
        "SELECT CAST(ts / ? AS INTEGER) AS quarter, count(*) FROM queries"
        " WHERE child = ? AND ts >= ? AND ts < ? GROUP BY quarter",
        (QUARTER, child, start, end),
    )
    for quarter, count in rows:
        counts[datetime.fromtimestamp(quarter * QUARTER, tz).hour] += count
    return counts


def minutes_by_day(db: sqlite3.Connection, child: str, days: list[str]) -> dict[str, int]:
    rows = db.execute(
        "SELECT day, minutes FROM usage WHERE child = ? AND category = ? AND day >= ?",
        (child, OVERALL, days[0]),
    )
    return {day: minutes for day, minutes in rows if day in days}


def category_counts(db: sqlite3.Connection, child: str, since: float) -> dict[str, tuple[int, int]]:
    """{category: (allowed, blocked)} queries since `since`; a query counts in each category."""
    totals: dict[str, list[int]] = {}
    rows = db.execute(
        f"SELECT categories, {BLOCKED_CONDITION} AS blocked, count(*) FROM queries"
        " WHERE child = ? AND ts >= ? AND categories != '' GROUP BY categories, blocked",
        (child, since),
    )
    for categories, blocked, count in rows:
        for category in filter(None, categories.split(",")):
            totals.setdefault(category, [0, 0])[1 if blocked else 0] += count
    return {category: (a, b) for category, (a, b) in totals.items()}


def site_counts(db: sqlite3.Connection, child: str, since: float) -> Counter[str]:
    sites: Counter[str] = Counter()
    rows = db.execute(
        "SELECT name, count(*) FROM queries WHERE child = ? AND ts >= ? GROUP BY name",
        (child, since),
    )
    for name, count in rows:
        site = site_of(name)
        if site:
            sites[site] += count
    return sites


def activity(
    db: sqlite3.Connection | None, child: str, tz: ZoneInfo, reset: int, now: float
) -> Activity:
    """Everything the child page's activity charts show; empty charts when there is no log."""
    today = datetime.fromtimestamp(now, tz).date()
    week_start = _midnight(today - timedelta(days=DAYS - 1), tz)
    last_usage_day = date.fromisoformat(usage_day(now, reset, tz))
    usage_days = [(last_usage_day - timedelta(days=n)).isoformat() for n in range(DAYS - 1, -1, -1)]
    hours, minutes, categories, sites = [0] * 24, {}, {}, Counter()
    available = db is not None
    if db is not None:
        try:
            hours = hour_counts(db, child, today, tz)
            categories = category_counts(db, child, week_start)
            sites = site_counts(db, child, week_start)
        except sqlite3.OperationalError:  # filterd has not written a query log yet
            available = False
        try:
            minutes = minutes_by_day(db, child, usage_days)
        except sqlite3.OperationalError:  # nor usage
            minutes = {}
    ordered = sorted(categories.items(), key=lambda item: (-sum(item[1]), item[0]))
    top = max((sum(c) for _, c in ordered), default=0) or 1
    span = WIDTH - LABEL_WIDTH - 50
    return Activity(
        today.isoformat(),
        _columns([(f"{hour:02d}:00", count) for hour, count in enumerate(hours)]),
        sum(hours),
        _columns([(day, minutes.get(day, 0)) for day in usage_days], gap=12.0),
        [
            CategoryRow(
                category,
                allowed,
                blocked,
                round(span * allowed / top, 1),
                round(span * blocked / top, 1),
            )
            for category, (allowed, blocked) in ordered
        ],
        _rows(sorted(sites.items(), key=lambda item: (-item[1], item[0]))[:TOP_SITES]),
        available,
    )


def day_label(day: str) -> str:
    """A usage day as a short label, like 'Mon 13'."""
    return date.fromisoformat(day).strftime("%a %d")
