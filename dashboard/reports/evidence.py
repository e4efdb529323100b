"""The monthly evidence report as a PDF (fpdf2, a maintained PDF library).

Per child: time online, blocked requests by category, high-risk blocks and how many were
reviewed, and the state of their online-safety agreement (signed on, review due, out of
date, none). Then reviews and their outcomes, every rule change with who made it and why, the
filter self-test results, how fresh the blocklists are, devices the rules do not cover, and
whether the audit trail and reviews are intact. Read only from the event log, the query log's
summaries, the audit trail and reviews: what the dashboard already shows, in one document.
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.data import agreements, audit, records
from dashboard.data.blocked_log import OUTCOMES, review_histories, review_outcomes
from dashboard.data.devices import seen_devices
from dashboard.data.list_health import ListHealth
from dashboard.reports.box_health import box_lines
from dashboard.reports.pdf import Report
from filterd.db.events import Event
from filterd.db.read import FilterdReader
from filterd.events.kinds import REVIEWED_BLOCKS, SELFTEST_KINDS
from filterd.lists.categories import label_of
from filterd.rules.decide import OVERALL
from filterd.rules.model import Rules


def month_bounds(month: str, tz: ZoneInfo) -> tuple[float, float, list[str]]:
    """(start, end, usage days) of a month given as YYYY-MM, in home time."""
    year, number = (int(part) for part in month.split("-"))
    first = date(year, number, 1)
    following = date(year + (number == 12), number % 12 + 1, 1)
    days = [
        date.fromordinal(d).isoformat() for d in range(first.toordinal(), following.toordinal())
    ]
    start = datetime(first.year, first.month, 1, tzinfo=tz).timestamp()
    end = datetime(following.year, following.month, 1, tzinfo=tz).timestamp()
    return start, end, days


def _events(reader: FilterdReader, start: float, end: float) -> list[Event]:
    found: list[Event] = []
    after = 0
    while batch := reader.events_after(after, 2000):
        found += [e for e in batch if start <= e.ts < end]
        after = batch[-1].id
    return found


def build(
    month: str,
    filterd_db: FilterdReader,
    dashboard_db: sqlite3.Connection,
    rules: Rules | None,
    raw_rules: dict[str, Any],
    lists_status: dict[str, Any] | None,
    tz: ZoneInfo,
    lists: ListHealth | None = None,
) -> bytes:
    """The month's report as PDF bytes; `lists`: each category's freshness for "The box"."""
    start, end, days = month_bounds(month, tz)
    events = _events(filterd_db, start, end)
    title = datetime.fromtimestamp(start, tz).strftime("%B %Y")
    pdf = Report()
    pdf.set_title(f"filterd evidence report {title}")
    pdf.add_page()
    pdf.heading(f"Filtering and monitoring evidence: {title}", 16)
    pdf.line(f"Made {datetime.now(tz):%Y-%m-%d %H:%M} from the home's filterd.")

    pdf.heading("Children")
    risky: dict[str, list[int]] = {}
    for event in events:
        if event.kind in REVIEWED_BLOCKS and event.data.get("query_id"):
            risky.setdefault(event.child, []).append(int(event.data["query_id"]))
    for child_id, profile in rules.children.items() if rules else []:
        by_day = filterd_db.minutes_by_day(child_id, OVERALL, days[0])
        minutes = sum(m for day, m in by_day.items() if day in days)
        pdf.heading(profile.name, 12)
        pdf.line(f"Time online: {minutes // 60} h {minutes % 60} min in the month.")
        counts = filterd_db.category_counts(child_id, start, hide_high_risk=False, until=end)
        blocked = sorted(((c, b) for c, (_, b) in counts.items() if b), key=lambda x: -x[1])
        listed = ", ".join(f"{label_of(c)} {b}" for c, b in blocked) or "none"
        pdf.line(f"Blocked by category: {listed}.")
        ids = risky.get(child_id, [])
        histories = review_histories(dashboard_db, ids) if ids else {}
        pdf.line(f"High-risk blocks: {len(ids)}; reviewed: {len(histories)}.")
        agreed = agreements.status(dashboard_db, child_id, profile, time.time(), tz)
        review = agreements.review_words(agreed)
        pdf.line(f"Online-safety agreement: {agreed.words}" + (f"; {review}." if review else "."))

    pdf.heading("Reviews and outcomes")
    outcomes = Counter(review_outcomes(dashboard_db, start, end))
    if outcomes:
        for outcome, count in outcomes.items():
            pdf.line(f"{OUTCOMES.get(outcome, outcome)}: {count}")
    else:
        pdf.line("No reviews this month.")

    pdf.heading("Rule changes (who, what, why)")
    names = {child_id: p.name for child_id, p in rules.children.items()} if rules else {}
    changes = audit.rule_changes(dashboard_db, start, end, names=names)
    for change in changes:
        when = datetime.fromtimestamp(change.ts, tz)
        pdf.line(f"{when:%d %b %H:%M} {change.user}: {change.detail}")
    if not changes:
        pdf.line("No rule changes this month.")

    pdf.heading("Filter self-test")
    tests = [e for e in events if e.kind in SELFTEST_KINDS]
    failed = [e for e in tests if not e.data.get("ok")]
    if tests:
        pdf.line(
            f"{len(tests)} self-tests ran this month: {len(tests) - len(failed)} passed,"
            f" {len(failed)} found problems (each listed below, then the last one that passed)."
        )
    passed = [e for e in tests if e.data.get("ok")]
    for event in failed + passed[-1:]:
        verdict = "passed" if event.data.get("ok") else "found problems"
        what = "each child's rules" if event.data.get("scope") == "profiles" else "household"
        pdf.line(f"{datetime.fromtimestamp(event.ts, tz):%d %b %H:%M} ({what}): {verdict}")
        for check in event.data.get("checks", []):
            if check.get("notice"):
                pdf.line(f"    note: {check.get('detail')}")
            elif not check.get("ok"):
                pdf.line(f"    not ok: {check.get('name')} ({check.get('detail')})")
    if not tests:
        pdf.line("The self-test did not run this month.")

    pdf.heading("The box")
    for line in box_lines(events, lists, tz):
        pdf.line(line)

    pdf.heading("Blocklists")
    if lists_status:
        updated = lists_status.get("updated") or 0
        pdf.line(f"Last updated {datetime.fromtimestamp(updated, tz):%Y-%m-%d %H:%M}.")
        for source in lists_status.get("sources", []):
            if source.get("status") == "failed":
                pdf.line(f"    failing: {source.get('category')}: {source.get('reason')}")
    else:
        pdf.line("No list update has run.")

    pdf.heading("Devices the rules do not cover")
    uncovered = [d for d in seen_devices(filterd_db, raw_rules) if d.owner is None]
    for device in uncovered[:50]:
        pdf.line(
            f"{device.hostname or device.vendor or 'unnamed device'} ({device.address or '-'})"
        )
    if not uncovered:
        pdf.line("Every device seen is listed in the rules.")

    pdf.heading("Records")
    for label, verdict in records.check(dashboard_db, filterd_db):
        pdf.line(records.in_words(label, verdict) + ".")
    return bytes(pdf.output())
