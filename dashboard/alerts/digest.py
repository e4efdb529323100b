"""The daily and weekly digest: per child, time online, blocked by category, high-risk blocks
and whether they were reviewed, requests for access and their answers, rule changes, and the
box's health. Every count is bounded to the digest's own period. HTML with a plain-text
part; the bar charts are table cells with a set width and colour, which every email client
draws (no images, no scripts, no CSS it may strip).
"""

from __future__ import annotations

import html
import sqlite3
from datetime import date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from dashboard.data import access_requests, audit, records
from dashboard.data.blocked_log import reviews_for
from dashboard.data.home_timezone import HOME_TZ
from dashboard.data.list_health import ListHealth
from dashboard.reports.box_health import BOX_KINDS, box_lines
from filterd.db.events import Event
from filterd.db.read import FilterdReader
from filterd.events.kinds import ACCESS_REQUESTED, REVIEWED_BLOCKS
from filterd.lists.categories import label_of
from filterd.rules.decide import OVERALL
from filterd.rules.model import Rules

ANSWER_WORDS = {
    access_requests.APPROVED: "allowed",
    access_requests.DECLINED: "declined",
    access_requests.WAITING: "not answered yet",
}
BAR_WIDTH = 160  # pixels for the longest bar
DAILY, WEEKLY = "digest.daily", "digest.weekly"  # routing kinds: who gets which digest
MONTHLY = "digest.monthly"  # the evidence report (PDF) of the month before, on the 1st


class Period(NamedTuple):
    kind: str  # DAILY or WEEKLY
    key: str  # e.g. "daily:2026-11-23", stored so a digest goes once
    label: str  # "Mon 23 Nov" or "week of 16 Nov"
    start: float
    end: float
    days: list[str]  # usage days (YYYY-MM-DD) in the period


def due_periods(now: float, tz: ZoneInfo, send_at: int) -> list[Period]:
    """The digests whose time has come: yesterday's after `send_at` (minutes after midnight),
    and last week's on Mondays."""
    moment = datetime.fromtimestamp(now, tz)
    if moment.hour * 60 + moment.minute < send_at:
        return []
    today = moment.date()
    found = [_period(DAILY, today - timedelta(days=1), 1, tz)]
    if today.weekday() == 0:
        found.append(_period(WEEKLY, today - timedelta(days=7), 7, tz))
    if today.day == 1:
        last = today - timedelta(days=1)
        first = last.replace(day=1)
        found.append(_period(MONTHLY, first, last.day, tz))
    return found


def _period(kind: str, first: date, days: int, tz: ZoneInfo) -> Period:
    start = datetime(first.year, first.month, first.day, tzinfo=tz)
    end = start + timedelta(days=days)
    label = f"{first:%a %d %b}" if days == 1 else f"week of {first:%d %b}"
    name = {DAILY: "daily", WEEKLY: "weekly", MONTHLY: "monthly"}[kind]
    if kind == MONTHLY:
        label = f"{first:%B %Y}"
    listed = [(first + timedelta(days=i)).isoformat() for i in range(days)]
    return Period(
        kind, f"{name}:{first.isoformat()}", label, start.timestamp(), end.timestamp(), listed
    )


def build(
    period: Period,
    filterd_db: FilterdReader,
    dashboard_db: sqlite3.Connection,
    rules: Rules | None,
    link_base: str,
    lists: ListHealth | None = None,
) -> dict[str, str]:
    """{subject, text, html} of one digest (for those who review: high-risk blocks shown)."""
    title = ("Daily summary: " if period.kind == DAILY else "Weekly summary: ") + period.label
    text: list[str] = [title, ""]
    parts: list[str] = [f'<h1 style="font-size:20px">{html.escape(title)}</h1>']
    risky, asked, box = _from_events(filterd_db, period)
    requests = access_requests.made_between(dashboard_db, period.start, period.end)
    names = {child_id: p.name for child_id, p in rules.children.items()} if rules else {}
    for child_id, profile in rules.children.items() if rules else []:
        first = profile.name.split()[0] if profile.name.strip() else child_id
        by_day = filterd_db.minutes_by_day(child_id, OVERALL, period.days[0])
        minutes = sum(m for day, m in by_day.items() if day in period.days)
        counts = filterd_db.category_counts(
            child_id, period.start, hide_high_risk=False, until=period.end
        )
        blocked = {c: b for c, (_, b) in counts.items() if b}
        ids = risky.get(child_id, [])
        reviewed = len(reviews_for(dashboard_db, ids)) if ids else 0
        text.append(f"{first}: online {minutes // 60}h {minutes % 60}m")
        text.append(f"  high-risk blocks: {len(ids)}, reviewed: {reviewed}")
        for category, count in sorted(blocked.items(), key=lambda x: -x[1]):
            text.append(f"  blocked {label_of(category)}: {count}")
        answers = [_answer(r) for r in requests if r.child == child_id]
        text.append(f"  requests for access: {asked.get(child_id, 0)}")
        text += [f"    {line}" for line in answers]
        text.append("")
        parts.append(f'<h2 style="font-size:18px">{html.escape(first)}</h2>')
        parts.append(
            f"<p>Online {minutes // 60}h {minutes % 60}m. High-risk blocks: {len(ids)},"
            f" reviewed: {reviewed}.</p>"
        )
        parts.append(_bars(blocked))
        parts.append(f"<p>Requests for access: {asked.get(child_id, 0)}</p>")
        if answers:
            items = "".join(f"<li>{html.escape(line)}</li>" for line in answers)
            parts.append(f"<ul>{items}</ul>")
    changes = [
        (c.user, c.detail)
        for c in audit.rule_changes(dashboard_db, period.start, period.end, names=names)
    ]
    text.append(f"Rule changes: {len(changes)}")
    text += [f"  {who}: {detail}" for who, detail in changes[:20]]
    parts.append(f'<h2 style="font-size:18px">Rule changes ({len(changes)})</h2>')
    if changes:
        items = "".join(f"<li>{html.escape(who)}: {html.escape(d)}</li>" for who, d in changes[:20])
        parts.append(f"<ul>{items}</ul>")
    box_said = box_lines(box, lists, rules.timezone if rules is not None else HOME_TZ)
    text += ["", "The box:"] + [f"  {line}" for line in box_said]
    parts.append('<h2 style="font-size:18px">The box</h2>')
    parts.append("<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in box_said) + "</ul>")
    health = "; ".join(records.in_words(*r) for r in records.check(dashboard_db, filterd_db))
    text += ["", f"Records: {health}", f"Dashboard: {link_base}/health"]
    parts.append(f'<p>Records: {html.escape(health)}. <a href="{link_base}/health">Health</a></p>')
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>"
        '<body style="font-family:Arial,sans-serif;font-size:16px;line-height:1.4">'
        + "".join(parts)
        + "</body></html>"
    )
    return {"subject": title, "text": "\n".join(text) + "\n", "html": page}


def _from_events(
    reader: FilterdReader, period: Period
) -> tuple[dict[str, list[int]], dict[str, int], list[Event]]:
    """From the event log, per child in the period: the query ids of high-risk blocks, and
    how many times the child asked for access; and the box's own trouble (BOX_KINDS)."""
    risky: dict[str, list[int]] = {}
    asked: dict[str, int] = {}
    box: list[Event] = []
    after = 0
    while True:
        batch = reader.events_after(after, 1000)
        if not batch:
            return risky, asked, box
        for event in batch:
            if not period.start <= event.ts < period.end:
                continue
            if event.kind in REVIEWED_BLOCKS and event.data.get("query_id"):
                risky.setdefault(event.child, []).append(int(event.data["query_id"]))
            elif event.kind == ACCESS_REQUESTED.name:
                asked[event.child] = asked.get(event.child, 0) + 1
            elif event.kind in BOX_KINDS:
                box.append(event)
        after = batch[-1].id


def _answer(request: access_requests.AccessRequest) -> str:
    """One request and its answer, in plain words ("social.example: allowed by Jo")."""
    words = ANSWER_WORDS.get(request.state, request.state)
    by = f" by {request.decided_by}" if request.decided_by else ""
    return f"{request.site}: {words}{by}"


def _bars(blocked: dict[str, int]) -> str:
    """Blocked requests by category as a table of bars (drawn by every email client)."""
    if not blocked:
        return "<p>Nothing blocked.</p>"
    top = max(blocked.values())
    rows = []
    for category, count in sorted(blocked.items(), key=lambda x: -x[1]):
        width = max(2, round(BAR_WIDTH * count / top))
        rows.append(
            f'<tr><td style="padding:2px 8px 2px 0">{html.escape(label_of(category))}</td>'
            f'<td><table role="presentation" cellpadding="0" cellspacing="0"><tr>'
            f'<td width="{width}" height="14" bgcolor="#0b5cad" style="background:#0b5cad">'
            f'&nbsp;</td><td style="padding-left:6px">{count}</td></tr></table></td></tr>'
        )
    return (
        '<table role="presentation" cellpadding="0" cellspacing="0">'
        '<caption style="text-align:left">Blocked by category</caption>'
        + "".join(rows)
        + "</table>"
    )
