"""Blocked requests for safeguarding review: filterd.db's query log joined with reviews.

The query log (filterd.db, read-only) and the reviews (dashboard.db) live in different files, so
they are joined here in Python by query id, one page at a time. Every query filters on `ts`
first, which filterd indexes (queries_ts), so a page reads only the chosen time range however
long the log is.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from dashboard.data import hash_chain
from dashboard.data.db import REVIEW_DAYS
from dashboard.data.devices import listed_devices
from dashboard.data.home_timezone import HOME_TZ
from filterd.db.read import BlockedSelection, FilterdReader, LogEntry
from filterd.dns.query import BLOCK_LABELS, ROUTINE_REASONS, Reason
from filterd.lists.categories import BY_ID, HIGH_RISK, label_of
from filterd.rules.identify import device_entry
from filterd.rules.parse import MAX_NAME
from filterd.text.people import text_problem

PAGE_SIZE = 100
MAX_NOTE = 2000


OUTCOMES = {
    "no_concern": "No concern",
    "discussed_with_child": "Discussed with the child",
    "raised_with_dsl": "Concern raised with the safeguarding lead",
}

# Why a request was blocked, in plain words, by reason value (defined beside filterd's Reason).
REASONS = {str(reason): label for reason, label in BLOCK_LABELS.items()}

HIGH_RISK_ONLY = "high"  # ?risk=high
NOT_REVIEWED = "waiting"  # ?review=waiting
APP_TIME = "App time used up"

RANGES = {"24h": ("Last 24 hours", 1), "7d": ("Last 7 days", 7), "30d": ("Last 30 days", 30)}
DEFAULT_RANGE = "24h"


class Filters(NamedTuple):
    child: str = ""
    device: str = ""
    category: str = ""
    range: str = DEFAULT_RANGE  # a RANGES key, or "dates" for from/to
    start_date: str = ""  # YYYY-MM-DD, home time, with range "dates"
    end_date: str = ""  # YYYY-MM-DD inclusive
    start: float = 0.0  # the resolved window, unix seconds
    end: float = 0.0
    risk: str = ""  # HIGH_RISK_ONLY: only requests in high-risk categories
    review: str = ""  # NOT_REVIEWED: only requests nobody has reviewed

    def params(self) -> dict[str, str]:
        """The filters as GET parameters (for links, forms and the export)."""
        values = {
            "child": self.child,
            "device": self.device,
            "category": self.category,
            "range": self.range,
            "from": self.start_date,
            "to": self.end_date,
            "risk": self.risk,
            "review": self.review,
        }
        return {key: value for key, value in values.items() if value}

    def selection(self, reviewed: tuple[int, ...] = ()) -> BlockedSelection:
        """The filters as filterd.db.read takes them (`reviewed`: ids to leave out when only
        those not reviewed are wanted)."""
        return BlockedSelection(
            self.start,
            self.end,
            self.child,
            self.device,
            self.category,
            self.risk == HIGH_RISK_ONLY,
            reviewed if self.review == NOT_REVIEWED else (),
        )

    def describe(self) -> str:
        parts = []
        if self.range == "dates":
            parts.append(f"from {self.start_date or 'the start'} to {self.end_date or 'now'}")
        else:
            parts.append(RANGES[self.range][0].lower())
        if self.child:
            parts.append(f"child {self.child}")
        if self.device:
            parts.append(f"device {self.device}")
        if self.category:
            parts.append(f"category {label_of(self.category)}")
        if self.risk == HIGH_RISK_ONLY:
            parts.append("high risk only")
        if self.review == NOT_REVIEWED:
            parts.append("not reviewed yet")
        return ", ".join(parts)


Entry = LogEntry  # one blocked request, as filterd.db.read gives it


class Review(NamedTuple):
    query_id: int
    outcome: str
    note: str
    reviewer: str
    ts: float


class Page(NamedTuple):
    entries: list[Entry]
    reviews: dict[int, Review]
    page: int
    has_next: bool


FIRST_YEAR, LAST_YEAR = 2000, 2099  # dates a filter may name (a log never reaches outside)


class FilterError(ValueError):
    """A filter the person sent that cannot be a filter; the message says why."""


def _day(text: str, name: str) -> date | None:
    """A YYYY-MM-DD date given as `name`; None when absent; FilterError when it is wrong."""
    text = text.strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise FilterError(f"{name}: expected a date like 2026-05-01") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise FilterError(f"{name}: choose a date between {FIRST_YEAR} and {LAST_YEAR}")
    return day


def _check_strictly(args: Mapping[str, str]) -> None:
    chosen = args.get("range")
    if chosen is not None and chosen != "dates" and chosen not in RANGES:
        known = ", ".join([*RANGES, "dates"])
        raise FilterError(f"range: expected one of {known}, got {chosen!r}")
    category = args.get("category", "").strip()
    if category and category not in BY_ID:
        raise FilterError(f"category: unknown category {category!r}")
    for name, wanted in (("risk", HIGH_RISK_ONLY), ("review", NOT_REVIEWED)):
        given = args.get(name, "")
        if given and given != wanted:
            raise FilterError(f"{name}: expected {wanted!r} or nothing, got {given!r}")


def parse_filters(
    args: Mapping[str, str],
    now: float | None = None,
    tz: ZoneInfo = HOME_TZ,
    strict: bool = False,
) -> Filters:
    """Filters from GET parameters: an unknown range or category falls back to the default
    (a page's link kept from an older release still opens), or with `strict` (the API, where
    a program should learn its mistake) raises FilterError; a date that is not one (or is out
    of range) always raises FilterError."""
    now = time.time() if now is None else now
    if strict:
        _check_strictly(args)
    child = args.get("child", "").strip()[:64]
    device = args.get("device", "").strip()[:64]
    category = args.get("category", "").strip()
    if category not in BY_ID:
        category = ""
    risk = HIGH_RISK_ONLY if args.get("risk", "") == HIGH_RISK_ONLY else ""
    review = NOT_REVIEWED if args.get("review", "") == NOT_REVIEWED else ""
    chosen = args.get("range", DEFAULT_RANGE)
    first, last = _day(args.get("from", ""), "from"), _day(args.get("to", ""), "to")
    if chosen == "dates" and (first or last):
        start = datetime.combine(first, datetime.min.time(), tz).timestamp() if first else 0.0
        if last:
            end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tz).timestamp()
        else:
            end = now + 1
        return Filters(
            child,
            device,
            category,
            "dates",
            first.isoformat() if first else "",
            last.isoformat() if last else "",
            start,
            end,
            risk,
            review,
        )
    if chosen not in RANGES:
        chosen = DEFAULT_RANGE
    start = now - RANGES[chosen][1] * 86400
    return Filters(child, device, category, chosen, "", "", start, now + 1, risk, review)


def page_of(
    reader: FilterdReader,
    dashboard_db: sqlite3.Connection,
    filters: Filters,
    page: int = 1,
    size: int = PAGE_SIZE,
) -> Page:
    """One page of blocked requests: high-risk first, newest first within each."""
    page = max(1, page)
    reviewed = reviewed_ids(dashboard_db) if filters.review == NOT_REVIEWED else ()
    entries, has_next = reader.blocked_page(filters.selection(reviewed), page, size)
    return Page(entries, reviews_for(dashboard_db, [e.id for e in entries]), page, has_next)


def all_matching(
    reader: FilterdReader, filters: Filters, dashboard_db: sqlite3.Connection
) -> Iterator[Entry]:
    """Every blocked request the filters match, in page order (for the export)."""
    reviewed = reviewed_ids(dashboard_db) if filters.review == NOT_REVIEWED else ()
    return reader.blocked_all(filters.selection(reviewed))


def reviewed_ids(db: sqlite3.Connection) -> tuple[int, ...]:
    """Every blocked request with a review still kept."""
    kept = time.time() - REVIEW_DAYS * 86_400
    rows = db.execute("SELECT DISTINCT query_id FROM reviews WHERE ts >= ?", (kept,))
    return tuple(row[0] for row in rows)


class RowKind(NamedTuple):
    """How a blocked request is shown: `style` for the row, `label` in words beside it."""

    style: str  # "high-risk", "routine" or "" (another block: a category, the deny list)
    label: str


def kind_of(entry: Entry) -> RowKind:
    """A high-risk category is marked and named; bedtime, a spent limit, app time and a pause
    are routine; the rest are ordinary blocks."""
    if entry.high_risk:
        risky = [label_of(c) for c in entry.categories if c in HIGH_RISK]
        return RowKind("high-risk", "High risk: " + ", ".join(risky))
    if entry.reason in ROUTINE_REASONS:
        reason = APP_TIME if entry.reason == Reason.LIMIT and entry.service else None
        return RowKind("routine", "Routine: " + (reason or REASONS[entry.reason]))
    return RowKind("", "")


def reason_label(entry: Entry) -> str:
    """Why it was blocked, in words (never the reason's value)."""
    if entry.reason == Reason.LIMIT and entry.service:
        return APP_TIME
    return REASONS.get(entry.reason, "Blocked")


class DeviceLabel(NamedTuple):
    name: str  # "Sam's tablet", or "unknown device (192.168.1.40)"
    mac: str  # "" when not known


def device_labels(
    reader: FilterdReader, raw_rules: dict[str, Any], addresses: list[str]
) -> dict[str, DeviceLabel]:
    """{address: the device's name and MAC} for blocked requests: the rules' name for it (the
    entry filterd applies to that address: filterd.rules.identify.device_entry), else the name
    the device gives itself, else "unknown device (..)"."""
    seen = reader.devices_at(addresses)
    listed = listed_devices(raw_rules)
    labels = {}
    for address in set(addresses):
        row = seen.get(address)
        mac = row.mac if row else ""
        entry = device_entry(listed, address, reader.neighbours_of(address))
        name = entry.name if entry is not None else None
        if not name:
            name = row.hostname if row and row.hostname else None
        if name is not None and text_problem(name, MAX_NAME) is not None:
            name = None
        labels[address] = DeviceLabel(name or f"unknown device ({address})", mac)
    return labels


def reviews_for(db: sqlite3.Connection, ids: list[int]) -> dict[int, Review]:
    """The review in force (the latest) of each of these requests that has one."""
    return {query_id: history[-1] for query_id, history in review_histories(db, ids).items()}


def review_histories(db: sqlite3.Connection, ids: list[int]) -> dict[int, list[Review]]:
    """Every review of each of these requests, oldest first (reviews are never replaced)."""
    found: dict[int, list[Review]] = {}
    kept = time.time() - REVIEW_DAYS * 86_400
    for start in range(0, len(ids), 500):  # under SQLite's host-parameter limit
        chunk = ids[start : start + 500]
        rows = db.execute(
            "SELECT query_id, outcome, note, reviewer, ts FROM reviews"
            f" WHERE query_id IN ({','.join('?' * len(chunk))}) AND ts >= ? ORDER BY id",
            (*chunk, kept),
        )
        for row in rows:
            found.setdefault(row[0], []).append(Review(*row))
    return found


class ReviewError(ValueError):
    """A refused review; the message is shown to the person."""


def blocked_entries(reader: FilterdReader, ids: list[int]) -> list[Entry]:
    """Those of `ids` that are blocked requests in the query log."""
    return reader.blocked_entries(ids)


def record_reviews(
    db: sqlite3.Connection, ids: list[int], outcome: str, note: str, reviewer: str
) -> None:
    """Mark these blocked requests reviewed. Each review is added: a later one is in force,
    and the earlier ones (with their notes) stay."""
    if outcome not in OUTCOMES:
        raise ReviewError("Choose an outcome.")
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise ReviewError(f"A note is at most {MAX_NOTE} characters.")
    if note and (problem := text_problem(note, MAX_NOTE, multiline=True)) is not None:
        raise ReviewError(f"A note is plain text: it {problem}.")
    if not ids:
        raise ReviewError("Choose at least one blocked request.")
    now = time.time()
    hash_chain.append(db, "reviews", [(id_, outcome, note, reviewer, now) for id_ in ids])
    hash_chain.prune(db, "reviews", now - REVIEW_DAYS * 86_400)
    db.commit()


def unreviewed_high_risk(
    reader: FilterdReader,
    dashboard_db: sqlite3.Connection,
    days: int = 7,
    now: float | None = None,
) -> int:
    """How many high-risk blocked requests in the last `days` days nobody has reviewed yet."""
    now = time.time() if now is None else now
    ids = reader.as_of(now).high_risk_ids(now - days * 86400, now + 1)
    return len(ids) - len(reviews_for(dashboard_db, ids))


def review_audit(ids: list[int], outcome: str, note: str) -> tuple[str, str]:
    """(target, detail) of a review in the audit trail, the same from the page and the API:
    the note is kept there as well as in the review."""
    target = "blocked requests " + ", ".join(str(i) for i in ids[:50])
    if len(ids) > 50:
        target += f" and {len(ids) - 50} more"
    return target, f"{outcome}: {note.strip()}"


def review_outcomes(db: sqlite3.Connection, start: float, end: float) -> dict[str, int]:
    """{outcome: how many reviews} recorded in [start, end)."""
    rows = db.execute(
        "SELECT outcome, count(*) FROM reviews WHERE ts >= ? AND ts < ? GROUP BY outcome",
        (start, end),
    )
    return dict(rows.fetchall())
