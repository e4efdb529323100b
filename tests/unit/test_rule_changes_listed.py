"""The monthly report's and the digest's "Rule changes" list every audit entry that changes
the rules, in words: children added or leaving, devices given to a child or taken off, the
time zone, as well as saves; a save that changed nothing is left out. Found by the outside
check: after two children and three devices were added the report said "No rule changes
this month", and an empty save read "X: no change"."""

from __future__ import annotations

import io
from datetime import datetime

from pypdf import PdfReader
from werkzeug.datastructures import MultiDict

from dashboard.data import audit
from dashboard.data.db import connect
from dashboard.data.home_timezone import HOME_TZ
from tests.support.dashboard_app import api_request, logged_in, make_app

EMPTY = {"timezone": "Europe/London", "children": {}, "devices": []}


def test_children_and_devices_added_are_rule_changes_and_an_empty_save_is_not(tmp_path):
    app = make_app(tmp_path, EMPTY, retention_days=365)
    admin = logged_in(app, "Ad", "administrator")
    page = admin.get("/setup/home").get_data(as_text=True)
    form = [
        ("csrf", admin.get("/api/session").get_json()["csrf"]),
        ("version", page.split('name="version" value="')[1].split('"')[0]),
        ("timezone", "Europe/London"),
        ("name", "Mia Jones"),
        ("age_band", "9_12"),
        ("name", "Tyler Smith"),
        ("age_band", "13_15"),
        ("unknown_devices", "household"),
    ]
    assert admin.post("/setup/home", data=MultiDict(form)).status_code == 302
    children = admin.get("/api/rules").get_json()["rules"]["children"]
    ids = {body["name"]: child for child, body in children.items()}
    for address, name, owner in (
        ("192.168.1.31", "Mia's tablet", ids["Mia Jones"]),
        ("192.168.1.32", "Tyler's phone", ids["Tyler Smith"]),
        ("192.168.1.33", "Tyler's laptop", ids["Tyler Smith"]),
    ):
        added = api_request(
            admin, "POST", "/api/devices", {"address": address, "name": name, "owner": owner}
        )
        assert added.status_code in (200, 201), added.get_json()
    unchanged = admin.get("/api/rules").get_json()
    saved = api_request(admin, "PUT", "/api/rules", {"rules": unchanged["rules"]})
    assert saved.status_code == 200, saved.get_json()

    db = connect(app.extensions["dashboard"].settings.database)
    changes = [c.detail for c in audit.rule_changes(db, 0, 2e9)]
    db.close()
    assert len(changes) == 6, changes  # with the choice for devices nobody has assigned
    assert not any("no change" in c for c in changes), changes

    month = datetime.now(HOME_TZ).strftime("%Y-%m")
    reply = admin.get(f"/reports/evidence.pdf?month={month}")
    assert reply.status_code == 200
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(reply.data)).pages)
    text = " ".join(text.split())
    assert "No rule changes this month" not in text
    assert "Ad: Mia Jones: child: none -> added (age 9 to 12)" in text
    assert "Ad: Tyler Smith: child: none -> added (age 13 to 15)" in text
    assert "device Tyler's laptop: not listed -> Tyler Smith" in text or (
        "device Tyler's laptop: not listed -> " + ids["Tyler Smith"] in text
    ), text
    assert "no change" not in text
