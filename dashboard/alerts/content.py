"""What an alert says: the least a recipient needs to act, never a child's history.

First name, what kind of site (or what happened), the time in the home's time zone, the
device's name and a link to the entry on the dashboard. No other names, no address, no list of
earlier blocks: a message can sit in a phone's notifications or a shared mailbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from filterd.db.events import Event
from filterd.events import kinds as k
from filterd.lists.categories import label_of
from filterd.rules.model import Rules

ILLEGAL_GUIDANCE = (
    "Do not visit the site. Record what you know and tell the designated safeguarding lead. "
    "Report it to the police (999 if a child is in immediate danger) and to the Internet Watch "
    "Foundation at report.iwf.org.uk."
)
SYSTEM_LINK = "/health"


def plain_category(category: str) -> str:
    return label_of(category)


def main_category(event: Event) -> str:
    """The category an alert is about: the illegal tier first, then the first listed."""
    listed = event.data.get("categories") or []
    if "illegal" in listed:
        return "illegal"
    if "bypass" in listed and event.kind == k.BYPASS_ATTEMPT.name:
        return "bypass"
    return listed[0] if listed else ""


def describe(
    event: Event,
    rules: Rules | None,
    tz: ZoneInfo,
    link_base: str,
    app_names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The content of one event's alert (stored with the message; JSON). `app_names` maps the
    app catalogue's ids to the names carers know ("YouTube") for a spent app limit."""
    child_name = ""
    device_name = ""
    if rules is not None:
        profile = rules.children.get(event.child)
        if profile is not None:
            child_name = profile.name.split()[0] if profile.name.strip() else ""
        device_name = next((d.name for d in rules.devices if d.ip == event.device), "")
    if not child_name and event.child:
        child_name = "A child"
    moment = datetime.fromtimestamp(event.ts, tz)
    category = main_category(event)
    content: dict[str, Any] = {
        "kind": event.kind,
        "severity": event.severity,
        "child": child_name,
        "category": plain_category(category) if category else "",
        "device": device_name or ("an unnamed device" if event.device else ""),
        "time": moment.strftime("%H:%M"),
        "date": moment.strftime("%a %d %b"),
        "link": link_base + _path(event, category),
        "event": event.id,
    }
    if event.kind == k.LIMIT_SPENT.name and event.data.get("app"):
        limit = str(event.data.get("limit", ""))
        content["app"] = (app_names or {}).get(limit) or "an app"
    if event.kind in (k.AGREEMENT_REVIEW_DUE.name, k.AGREEMENT_REVIEW_OVERDUE.name):
        content["review"] = _day(str(event.data.get("review", "")))
    if event.kind == k.RULES_EDITED_BY_HAND.name:
        content["loosened"] = _loosened(event.data.get("loosened") or [])
    content["title"] = _title(event.kind, content)
    if event.kind == k.BLOCK_ILLEGAL.name:
        content["guidance"] = ILLEGAL_GUIDANCE
    return content


def _loosened(loosened: list) -> str:
    """'self-harm no longer blocked for Sam' for each high-risk setting a hand edit
    loosened (first names only, as every alert names a child)."""
    said = []
    for change in loosened:
        if not isinstance(change, dict):
            continue
        child = str(change.get("child") or "")
        first = child.split()[0] if child.strip() else "the home"
        setting = str(change.get("setting") or "a setting")
        after = str(change.get("after") or "")
        what = f"{setting} no longer blocked" if after == "allowed" else f"{setting} opened"
        said.append(f"{what} for {first}")
    return "; ".join(said)


def _day(iso: str) -> str:
    """A date given as YYYY-MM-DD, as people write it ("01 Dec 2026")."""
    try:
        return date.fromisoformat(iso).strftime("%d %b %Y")
    except ValueError:
        return iso


def _path(event: Event, category: str) -> str:
    query_id = event.data.get("query_id")
    if query_id:
        params = {"child": event.child, "category": category, "range": "7d"}
        query = urlencode({key: value for key, value in params.items() if value})
        return f"/blocked/?{query}#q{int(query_id)}"
    if event.kind in (k.DEVICE_NEW.name, k.DEVICE_QUIET.name):
        return "/devices/"
    if event.kind == k.RULES_EDITED_BY_HAND.name:
        return "/audit/"
    if event.kind == k.ACCESS_REQUESTED.name:
        return "/#access-requests"
    if event.kind == k.LIMIT_SPENT.name and event.child:
        return f"/children/{event.child}"
    if event.kind in (k.AGREEMENT_REVIEW_DUE.name, k.AGREEMENT_REVIEW_OVERDUE.name):
        return f"/children/{event.child}/agreement"
    return SYSTEM_LINK


def _title(kind: str, c: dict[str, Any]) -> str:
    who = c["child"] or "A device"
    if kind == k.BLOCK_ILLEGAL.name:
        return f"Illegal content blocked on {c['device'] or 'a device'}"
    if kind == k.BYPASS_ATTEMPT.name:
        return f"{who} tried to get round the filter"
    if kind == k.BLOCK_HIGH_RISK.name:
        return f"{who}: {c['category']} site blocked"
    if kind == k.DEVICE_QUIET.name:
        return f"{who}'s device is online but not using the filter"
    if kind == k.DEVICE_NEW.name:
        return "A new device joined the network"
    if kind == k.RULES_EDITED_BY_HAND.name:
        if c.get("loosened"):
            return f"Rules file changed outside the dashboard: {c['loosened']}"
        return "The rules file was changed outside the dashboard"
    if kind == k.ACCESS_REQUESTED.name:
        return f"{who} asked for access to a blocked site"
    if kind == k.LIMIT_SPENT.name:
        what = f"{c['category']} time" if c["category"] else "time online"
        if c.get("app"):
            what = f"time on {c['app']}"
        return f"{who}'s daily {what} is used up"
    if kind == k.AGREEMENT_REVIEW_DUE.name:
        return f"{who}'s online-safety agreement is due for review on {c.get('review')}"
    if kind == k.AGREEMENT_REVIEW_OVERDUE.name:
        return f"{who}'s online-safety agreement was due for review on {c.get('review')}"
    return k.KINDS[kind].summary if kind in k.KINDS else kind


def group_key(event: Event) -> str:
    """One message per child and category (and kind) in each grouping window."""
    return f"{event.kind}|{event.child}|{main_category(event)}"
