"""One message from one or more queued alerts: subject, plain text, HTML and a JSON payload.

A single alert reads as one line a person can act on; a follow-up says how many more times it
happened in the window; the morning summary lists what quiet hours held back, one line each.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from typing import Any, NamedTuple

from dashboard.data.alert_outbox import Queued


class Message(NamedTuple):
    subject: str
    text: str
    html: str
    payload: dict[str, Any]  # the webhook's JSON body
    attachment: tuple[str, bytes] | None = None  # (file name, PDF) for email only


def line_of(alert: Queued) -> str:
    c = alert.content
    parts = [c["title"]]
    if alert.count > 1:
        parts.append(f"({alert.count} times)")
    where = f" on {c['device']}" if c.get("device") else ""
    return f"{' '.join(parts)} at {c['time']} {c['date']}{where}."


def compose(alerts: Sequence[Queued]) -> Message:
    """The message for alerts to one recipient sent together (one, or a morning summary)."""
    first = alerts[0]
    digest = first.content.get("digest")
    if digest is not None:  # a daily or weekly digest, composed when it was queued
        payload = {"subject": digest["subject"], "digest": digest["text"]}
        attached = digest.get("attachment")
        attachment = None
        if attached:
            attachment = (attached["name"], base64.b64decode(attached["base64"]))
        return Message(digest["subject"], digest["text"], digest["html"], payload, attachment)
    if len(alerts) == 1 and not first.held:
        c = first.content
        lines = [line_of(first)]  # the first of its group: "(2 times)" when it is more
        subject = c["title"] if first.count == 1 else f"{c['title']}: {first.count} times"
        if first.follow_up and first.count > 1:  # the rest of a window already told of
            subject = f"{c['title']}: {first.count} more times"
            lines = [f"{subject} since the last message."]
        if c.get("guidance"):
            lines.append(c["guidance"])
        lines.append(f"See it on the dashboard: {c['link']}")
    else:
        subject = (
            f"Overnight: {len(alerts)} alert{'s' if len(alerts) > 1 else ''} held in quiet hours"
        )
        lines = [line_of(a) + f" {a.content['link']}" for a in alerts]
    text = "\n\n".join(lines) + "\n\nfilterd: you get this because of your alert choices.\n"
    body = "".join(f"<p>{_linked(line)}</p>" for line in lines)
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(subject)}</title></head>"
        '<body style="font-family:Arial,sans-serif;font-size:16px;line-height:1.4">'
        f'{body}<p style="color:#555">filterd: you get this because of your alert choices.</p>'
        "</body></html>"
    )
    payload = {
        "subject": subject,
        "alerts": [
            {
                "id": a.uid,
                "count": a.count,
                **{key: a.content[key] for key in _PAYLOAD_KEYS if key in a.content},
            }
            for a in alerts
        ],
    }
    return Message(subject, text, page, payload)


_PAYLOAD_KEYS = ("kind", "severity", "title", "child", "category", "device", "time", "date", "link")


def _linked(line: str) -> str:
    """A line as HTML, its dashboard address a link."""
    escaped = html.escape(line)
    head, sep, url = escaped.rpartition(" http")
    if not sep:
        head, sep, url = escaped.rpartition(": http")
        if not sep:
            return escaped
        return f'{head}: <a href="http{url}">open the dashboard</a>'
    return f'{head} <a href="http{url}">open the dashboard</a>'
