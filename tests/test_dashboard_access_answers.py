"""A carer's answers to requests for access, through the real dashboard app and rules file:
until bedtime and always, a note too long, and an answer given twice."""

from __future__ import annotations

import copy
import html
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import yaml

from dashboard.data import access_requests
from dashboard.data.db import connect
from filterd.lists.settings import BlocklistSettings, ListsUpdate
from filterd.lists.update import build_index
from filterd.rules.guards import with_end_line
from filterd.rules.parse import parse_rules
from tests.support.dashboard_app import audit_trail, csrf_of, logged_in, make_app, version_of

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


def test_allowing_a_high_risk_site_always_needs_the_carers_own_reason(tmp_path):
    """One tap of "Allow always" must not open a self-harm site for good with "Sam asked
    for access" as its reason: it needs the carer's typed reason; a while needs none."""
    lists = tmp_path / "lists"
    build_index(BlocklistSettings(lists_update=ListsUpdate(directory=lists)), online=False)
    app = make_app(tmp_path, RULES, extra={"lists_update": {"directory": str(lists)}})
    client = logged_in(app, "Jo", "carer")
    risky = asked(app, "sanctioned-suicide.org")
    home = client.get("/").get_data(as_text=True)
    assert f'id="reason-{risky}"' in home and "allowing it always needs your reason" in home

    page = answer(client, risky, "approve", how="always").get_data(as_text=True)
    assert "allowing it always needs a reason" in page
    assert "allow" not in yaml.safe_load((tmp_path / "rules.yaml").read_text())["children"]["sam"]
    db = connect(app.extensions["dashboard"].settings.database)
    assert [r.id for r in access_requests.waiting(db, time.time())] == [risky]
    db.close()

    typed = "Agreed with her social worker for a school project"
    page = answer(client, risky, "approve", how="always", reason=typed).get_data(as_text=True)
    assert "Allowed always" in page
    sam = yaml.safe_load((tmp_path / "rules.yaml").read_text())["children"]["sam"]
    assert sam["allow"] == ["sanctioned-suicide.org"]
    assert any(e.detail.endswith(f"reason: {typed}") for e in audit_trail(app))

    ordinary = asked(app, "games.example")  # in no high-risk list: no reason box
    assert f'id="reason-{ordinary}"' not in client.get("/").get_data(as_text=True)


def test_until_bedtime_is_offered_only_to_a_child_with_a_bedtime(tmp_path):
    rules = copy.deepcopy(RULES)
    app = make_app(tmp_path, rules)
    client = logged_in(app, "Jo", "carer")
    asked(app)
    assert "Allow until bedtime" in client.get("/").get_data(as_text=True)
    rules["children"]["sam"]["offline"] = []
    (tmp_path / "rules.yaml").write_text(with_end_line(yaml.safe_dump(rules)))
    page = client.get("/").get_data(as_text=True)
    assert "Allow for 30 minutes" in page and "Allow until bedtime" not in page


def test_asking_again_for_one_site_is_one_request_answered_once(tmp_path):
    """Repeats of one site from one device are one request on the home page, one answer
    closes them all, and the child's page says that answer once (never yes, no and waiting)."""
    app = make_app(tmp_path, RULES)
    client = logged_in(app, "Jo", "carer")
    first, again = asked(app), asked(app)
    page = client.get("/").get_data(as_text=True)
    assert page.count("Sam asked for social.example") == 1
    answer(client, again, "decline", note="Not tonight")
    db = connect(app.extensions["dashboard"].settings.database)
    answers = [
        (r.site, r.state, r.answer) for r in access_requests.of_child(db, "sam", time.time())
    ]
    stored = {row[0] for row in db.execute("SELECT state FROM access_requests")}
    db.close()
    assert answers == [("social.example", "declined", "Not tonight")]
    assert stored == {"declined"}
    refused = answer(client, first, "approve", how="always").get_data(as_text=True)
    assert "Someone has already answered that request." in refused


def test_allowing_an_apps_website_says_it_is_only_the_website(tmp_path):
    """tiktok.com is one of TikTok's names: a yes lets the website through, not the app's
    other names, so the card and the answer say so rather than "it works on their device"."""
    app = make_app(tmp_path, RULES)
    client = logged_in(app, "Jo", "carer")
    request_id = asked(app, "tiktok.com")
    home = html.unescape(client.get("/").get_data(as_text=True))
    assert "tiktok.com is part of TikTok: allowing it lets the website through" in home
    page = html.unescape(answer(client, request_id, "approve", how="30m").get_data(as_text=True))
    assert "the website tiktok.com only" in page and "allow TikTok on the child's Apps" in page
    assert "It works on their device" not in page
