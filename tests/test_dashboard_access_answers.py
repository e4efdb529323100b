"""A carer's answers to requests for access, through the real dashboard app and rules file:
until bedtime and always, a note too long, and an answer given twice."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import yaml

from dashboard.data import access_requests
from dashboard.data.db import connect
from filterd.rules.parse import parse_rules
from tests.dashboard_support import csrf_of, logged_in, make_app, version_of

RULES = {
    "timezone": "Europe/London",
    "children": {
        "sam": {
            "name": "Sam",
            "age_band": "9_12",
            "offline": [{"days": "every_day", "start": "20:30", "end": "07:00"}],
        }
    },
    "devices": [{"ip": "192.168.1.20", "name": "Sam's tablet", "owner": "sam"}],
}


def asked(app, site: str = "social.example") -> int:
    db = connect(app.extensions["dashboard"].settings.database)
    try:
        return access_requests.add(
            db, time.time(), "192.168.1.20", "sam", "Sam's tablet", site, "social media", "pls"
        )
    finally:
        db.close()


def answer(client, request_id: int, action: str, **fields: str):
    data = {"csrf": csrf_of(client), "version": version_of(client), **fields}
    return client.post(f"/access/{request_id}/{action}", data=data, follow_redirects=True)


def test_until_bedtime_ends_at_the_next_bedtime_and_always_goes_on_the_allow_list(tmp_path):
    app = make_app(tmp_path, RULES)
    client = logged_in(app, "Jo", "carer")
    first, second = asked(app), asked(app, "games.example")
    page = answer(client, first, "approve", how="bedtime").get_data(as_text=True)
    assert "Allowed until bedtime at 20:30" in page
    rules = parse_rules((tmp_path / "rules.yaml").read_text())
    (override,) = rules.children["sam"].overrides
    end = datetime.fromtimestamp(override.until, ZoneInfo("Europe/London"))
    assert override.kind.value == "allow_site" and f"{end:%H:%M}" == "20:30"

    answer(client, second, "approve", how="always")
    raw = yaml.safe_load((tmp_path / "rules.yaml").read_text())
    assert raw["children"]["sam"]["allow"] == ["games.example"]

    again = answer(client, first, "decline", note="no").get_data(as_text=True)
    assert "Someone has already answered that request." in again
    db = connect(app.extensions["dashboard"].settings.database)
    states = [r.state for r in access_requests.of_child(db, "sam", time.time())]
    actions = [
        row[0] for row in db.execute("SELECT action FROM audit WHERE action LIKE 'access.%'")
    ]
    db.close()
    assert states == ["approved", "approved"] and actions == ["access.approve"] * 2


def test_a_declining_note_that_is_too_long_is_refused_and_the_request_waits(tmp_path):
    app = make_app(tmp_path, RULES)
    client = logged_in(app, "Jo", "carer")
    request_id = asked(app)
    page = answer(client, request_id, "decline", note="x" * 201).get_data(as_text=True)
    assert "The note could not be saved" in page
    db = connect(app.extensions["dashboard"].settings.database)
    assert [r.id for r in access_requests.waiting(db, time.time())] == [request_id]
    db.close()


def test_a_viewer_cannot_answer(tmp_path):
    app = make_app(tmp_path, RULES)
    client = logged_in(app, "Vi", "viewer")
    request_id = asked(app)
    page = client.get("/").get_data(as_text=True)
    assert "Sam asked for social.example" in page and "Allow for 30 minutes" not in page
    refused = client.post(f"/access/{request_id}/approve", data={"how": "30m"})
    assert refused.status_code in (400, 403)
