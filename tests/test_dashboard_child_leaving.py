"""A child leaving the home (issue 14): what happens to their records said in plain words before
confirming, an export of their blocked requests offered first, their devices unassigned or
removed as the carer chooses, a typed confirmation, and one audit entry with who and why; page
and API, bad input answered next to the field or as JSON 4xx with nothing lost. Flask's test
client on a real rules file, filterd.db and dashboard.db."""

from __future__ import annotations

import csv
import html
import io
import re
import time

import yaml

from dashboard.data import agreements
from filterd.db.devices import Sighting
from filterd.rules.parse import parse_rules
from tests.support.dashboard_app import RULES, audit_trail, csrf_of, logged_in, make_app, version_of
from tests.support.dashboard_forms import agreement_form
from tests.support.filterd_db import query_row, write_devices, write_query_log
from tests.support.pages import field_error

SAMS_PHONE = "aa:bb:cc:14:20:01"
NOW = time.time()


def home(tmp_path):
    """Sam with a phone (by MAC, seen by discovery) and a tablet (by address), Alex, and a
    blocked request of each child."""
    rules = yaml.safe_load(yaml.safe_dump(RULES))
    rules["devices"].append({"mac": SAMS_PHONE, "name": "Sam's phone", "owner": "sam"})
    app = make_app(tmp_path, rules)
    write_devices(
        tmp_path / "filterd.db",
        [Sighting(SAMS_PHONE, "192.168.1.31", "galaxy", None, None, None, False, NOW - 60)],
    )
    write_query_log(
        tmp_path,
        [
            query_row(NOW - 50, "harm.example", categories="self_harm", client="192.168.1.31"),
            query_row(NOW - 40, "games.example", child="alex", client="192.168.1.32"),
        ],
    )
    return app


def leave(client, **form):
    form.setdefault("csrf", csrf_of(client, "/children/sam/leaving"))
    form.setdefault("version", version_of(client, "/children/sam/leaving"))
    return client.post("/children/sam/leaving", data=form)


def test_the_page_says_what_is_kept_and_offers_the_export_before_removing(tmp_path):
    app = home(tmp_path)
    carer = logged_in(app, "Cam", "carer")
    assert "Sam is leaving" in carer.get("/children/").get_data(as_text=True)
    page = carer.get("/children/sam/leaving").get_data(as_text=True)
    words = html.unescape(re.sub(r"<[^>]+>", " ", page))
    assert "Nothing about Sam is deleted now" in words
    assert "kept for 7 days after each one happened" in words
    assert "Sam's devices: Sam's tablet, Sam's phone" in words
    assert "filtered like a young child" in words or "household rules only" in words
    # a carer cannot export the blocked log (the role table): told who can
    assert "A safeguarding lead or an administrator can download Sam's blocked requests" in words
    assert 'id="export-child"' not in page

    admin = logged_in(app, "Ada", "administrator")
    page = admin.get("/children/sam/leaving").get_data(as_text=True)
    link = html.unescape(re.search(r'href="([^"]+)" id="export-child"', page)[1])
    rows = list(csv.DictReader(io.StringIO(admin.get(link).get_data(as_text=True))))
    assert [(r["child"], r["site"], r["device"]) for r in rows] == [
        ("Sam", "harm.example", "Sam's phone")
    ]
    assert carer.get("/children/nobody/leaving").status_code == 404
    assert logged_in(app, "Val", "viewer").get("/children/sam/leaving").status_code == 403


def test_bad_confirmations_are_answered_next_to_the_field_and_nothing_changes(tmp_path):
    app = home(tmp_path)
    carer = logged_in(app, "Cam", "carer")
    before = (tmp_path / "rules.yaml").read_text()
    for form, field, words in (
        ({"devices": "unassign", "reason": "Moved", "confirm": "Alex"}, "confirm", "Type Sam"),
        ({"devices": "unassign", "reason": "", "confirm": "Sam"}, "reason", "Say why"),
        ({"devices": "burn", "reason": "Moved", "confirm": "Sam"}, "devices", "Choose what"),
        ({"devices": "remove", "reason": "a\u202eb", "confirm": "sam"}, "reason", "The reason"),
    ):
        reply = leave(carer, **form)
        assert reply.status_code == 400, form
        page = reply.get_data(as_text=True)
        assert words in field_error(page, field), form
        assert f'aria-describedby="{field}-error"' in page, form
        assert (tmp_path / "rules.yaml").read_text() == before
    stale = leave(carer, devices="unassign", reason="Moved", confirm="Sam", version="0" * 64)
    assert stale.status_code == 409 and (tmp_path / "rules.yaml").read_text() == before
    assert not [e for e in audit_trail(app) if e.action == "child.remove"]


def test_removing_on_the_page_unassigns_the_devices_and_keeps_the_record(tmp_path):
    app = home(tmp_path)
    carer = logged_in(app, "Cam", "carer")
    reply = leave(carer, devices="unassign", reason="Moved to a new placement", confirm=" sam ")
    assert reply.status_code == 302
    rules = parse_rules((tmp_path / "rules.yaml").read_text())
    assert list(rules.children) == ["alex"] and rules.devices == ()
    entry = next(e for e in audit_trail(app) if e.action == "child.remove")
    assert entry.user == "Cam" and entry.target == "sam"
    assert "Moved to a new placement" in entry.detail and "not assigned" in entry.detail
    # The phone is still listed, by its name, new and not assigned (filtered as unknown).
    devices = carer.get("/devices/").get_data(as_text=True)
    phone = re.search(r'id="device-aabbcc142001">(.*?)</li>', devices, re.S)[1]
    assert "Sam&#39;s phone" in phone and "not assigned" in phone and "New</strong>" in phone
    # The blocked log still has Sam's request, named.
    lead = logged_in(app, "Lee", "safeguarding_lead")
    log = lead.get("/blocked/").get_data(as_text=True)
    assert "harm.example" in log and "Sam (left the home)" in log


def test_the_api_removes_a_child_for_carers_only_and_answers_4xx_in_json(tmp_path):
    app = home(tmp_path)
    before = (tmp_path / "rules.yaml").read_text()

    def delete(client, child: str, **body):
        token = client.get("/api/session").get_json()["csrf"]
        body.setdefault("version", client.get("/api/rules").get_json()["version"])
        return client.delete(f"/api/children/{child}", json=body, headers={"X-CSRF-Token": token})

    good = {"devices": "remove", "reason": "Returned home", "confirm": "Sam"}
    for role in ("viewer", "safeguarding_lead"):
        refused = delete(logged_in(app, f"P{role}", role), "sam", **good)
        assert refused.status_code == 403 and "error" in refused.get_json()
    carer = logged_in(app, "Cam", "carer")
    missing = delete(carer, "nobody", **good)
    assert missing.status_code == 404 and missing.get_json()["error"]
    wrong = delete(carer, "sam", **{**good, "confirm": "Samuel"})
    assert wrong.status_code == 400 and wrong.get_json()["field"] == "confirm"
    assert (tmp_path / "rules.yaml").read_text() == before

    done = delete(carer, "sam", **good)
    assert done.status_code == 200 and done.get_json()["devices"] == 2
    assert "sam" not in yaml.safe_load((tmp_path / "rules.yaml").read_text())["children"]
    devices = carer.get("/api/devices").get_json()["devices"]
    assert SAMS_PHONE not in [d["mac"] for d in devices]  # removed: hidden until seen again
    removals = [e for e in audit_trail(app) if e.action == "child.remove"]
    assert [(e.user, e.target) for e in removals] == [("Cam", "sam")]
    assert "Returned home" in removals[0].detail
    again = delete(carer, "sam", **good)
    assert again.status_code == 404


def test_a_new_child_with_the_name_of_one_who_left_starts_with_nothing_of_theirs(tmp_path):
    """Found by the outside check: after Zoë Ó'Brien left, a new Zoë O'Brien got the same id
    and opened with the earlier child's signed agreement, words and risk assessment."""
    app = home(tmp_path)
    carer = logged_in(app, "Cam", "carer")

    def add(name: str) -> str:
        form = {"name": name, "age_band": "13_15", "csrf": csrf_of(carer, "/children/")}
        form["version"] = version_of(carer, "/children/")
        assert carer.post("/children/", data=form).status_code == 302
        children = yaml.safe_load((tmp_path / "rules.yaml").read_text())["children"]
        return next(cid for cid, child in children.items() if child["name"] == name)

    first = add("Zoë Ó'Brien")
    page = f"/children/{first}/agreement"
    form = agreement_form(csrf_of(carer, page), child_name="Zoë", agrees="call my nan on Sundays")
    assert carer.post(page, data=form).status_code == 302
    leaving = f"/children/{first}/leaving"
    reply = carer.post(
        leaving,
        data={
            "csrf": csrf_of(carer, leaving),
            "version": version_of(carer, leaving),
            "devices": "unassign",
            "reason": "Moved to a new placement",
            "confirm": "Zoë Ó'Brien",
        },
    )
    assert reply.status_code == 302

    second = add("Zoë O'Brien")
    assert second != first
    mine = html.unescape(carer.get(f"/children/{second}/agreement").get_data(as_text=True))
    assert "No agreement recorded" in mine and "call my nan on Sundays" not in mine
    card = html.unescape(carer.get("/").get_data(as_text=True))
    assert "call my nan" not in card and "Out of date" not in card
    # The one who left keeps theirs, under their own id.
    with app.app_context():
        kept = agreements.versions(app.extensions["dashboard"].db(), first)
    assert [v.fields["agrees"] for v in kept] == ["call my nan on Sundays"]


def test_devices_kept_on_the_list_stay_listed_unassigned_with_their_records(tmp_path):
    """Found by the outside check: with "keep them on the Devices list" chosen, a leaving
    child's devices that filterd had not seen (one by address, one by MAC) vanished from the
    Devices page and their records answered "That is not a device this home knows"."""
    rules = yaml.safe_load(yaml.safe_dump(RULES))
    rules["devices"].append({"mac": "aa:bb:cc:14:20:09", "name": "Sam's watch", "owner": "sam"})
    app = make_app(tmp_path, rules)
    carer = logged_in(app, "Cam", "carer")
    for key in ("192.168.1.20", "aa:bb:cc:14:20:09"):
        record = f"/devices/{key}/record"
        form = {"csrf": csrf_of(carer, record), "bought_by": "the local authority"}
        form |= {"account_holder": "Cam", "handed_over": "2026-01-05", "reset": "yes"}
        assert carer.post(record, data=form).status_code == 302
    assert leave(carer, devices="unassign", reason="Moved", confirm="Sam").status_code == 302

    devices = html.unescape(carer.get("/devices/").get_data(as_text=True))
    for ident, name in (("192-168-1-20", "Sam's tablet"), ("aabbcc142009", "Sam's watch")):
        card = re.search(rf'id="device-{ident}">(.*?)</li>', devices, re.S)
        assert card, f"{name} is gone from the Devices page"
        assert name in card[1] and "not assigned" in card[1]
    for key in ("192.168.1.20", "aa:bb:cc:14:20:09"):
        record = carer.get(f"/devices/{key}/record")
        assert record.status_code == 200
        assert "the local authority" in record.get_data(as_text=True)
    # Removed on the Devices page, they go for good.
    form = {"csrf": csrf_of(carer, "/devices/"), "version": version_of(carer, "/devices/")}
    assert carer.post("/devices/remove", data={**form, "mac": "192.168.1.20"}).status_code == 302
    assert 'id="device-192-168-1-20"' not in carer.get("/devices/").get_data(as_text=True)
