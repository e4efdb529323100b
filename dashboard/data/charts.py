"""A child's activity as chart data: queries by hour today, minutes online, categories, sites.

Read through filterd.db.read; every read takes one child's rows by the queries_child_ts index
(child = ? AND ts range). What a role sees is decided in dashboard.data.activity. "Today"
and the hours are the home's, in the rules' time zone;
"this week" is the last 7 days: today and the 6 days before it, from home midnight.
The bar geometry is worked out here so the template only writes SVG attributes (the
Content-Security-Policy forbids inline scripts and style attributes).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from filterd.db.read import QUARTER, FilterdReader
from filterd.rules.decide import OVERALL
from filterd.rules.schedule import usage_day

DAYS = 7
TOP_SITES = 10
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


def hour_counts(
    reader: FilterdReader, child: str, day: date, tz: ZoneInfo, *, hide_high_risk: bool
) -> list[int]:
    """Queries in each home hour (0-23) of a day; the repeated autumn hour counts once."""
    start, end = _midnight(day, tz), _midnight(day + timedelta(days=1), tz)
    counts = [0] * 24
    for quarter, count in reader.quarter_hour_counts(
        child, start, end, hide_high_risk=hide_high_risk
    ):
        counts[datetime.fromtimestamp(quarter * QUARTER, tz).hour] += count
    return counts


def site_counts(
    reader: FilterdReader, child: str, since: float, *, hide_high_risk: bool
) -> Counter[str]:
    sites: Counter[str] = Counter()
    for name, count in reader.name_counts(child, since, hide_high_risk=hide_high_risk).items():
        site = site_of(name)
        if site:
            sites[site] += count
    return sites


def activity(
    reader: FilterdReader,
    child: str,
    tz: ZoneInfo,
    reset: int,
    now: float,
    *,
    hide_high_risk: bool,
) -> Activity:
    """Everything the child page's activity charts show; empty charts when there is no log."""
    today = datetime.fromtimestamp(now, tz).date()
    week_start = _midnight(today - timedelta(days=DAYS - 1), tz)
    last_usage_day = date.fromisoformat(usage_day(now, reset, tz))
    usage_days = [(last_usage_day - timedelta(days=n)).isoformat() for n in range(DAYS - 1, -1, -1)]
    reader = reader.as_of(now)
    hidden = {"hide_high_risk": hide_high_risk}
    hours = hour_counts(reader, child, today, tz, **hidden)
    categories = reader.category_counts(child, week_start, **hidden)
    sites = site_counts(reader, child, week_start, **hidden)
    minutes = reader.minutes_by_day(child, OVERALL, usage_days[0])
    available = reader.has("queries")
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
