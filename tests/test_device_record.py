"""A device's record and set-up checklist (issue 17), on the real dashboard app with real
SQLite: a device newly assigned to a child asks for its record, bad answers are refused by
their field in plain words and nothing is kept, each tick and untick is in the audit trail with
its author, and dashboard.db from the previous release gains the tables in place."""

from __future__ import annotations

import sqlite3
import time
from datetime import date, timedelta

import yaml
from werkzeug.datastructures import MultiDict

from dashboard.data.db import SCHEMA, SCHEMA_VERSION, connect
from filterd.db.devices import Sighting
from tests.support.dashboard_app import audit_trail, csrf_of, version_of
from tests.support.filterd_db import write_devices

TABLET = "aa:bb:cc:17:00:01"
PHONE = "aa:bb:cc:17:00:02"


def seen(tmp_path) -> None:
    now = time.time()
    write_devices(
        tmp_path / "filterd.db",
        [
            Sighting(TABLET, "192.168.1.60", "lenovo-tab", "Lenovo", None, None, False, now - 60),
            Sighting(PHONE, "192.168.1.61", "pixel-7", "Google", None, None, False, now - 30),
        ],
    )


def assign(client, mac: str, owner: str):
    return client.post(
        "/devices/assign",
        data={
            "mac": mac,
            "owner": owner,
            "csrf": csrf_of(client, "/devices/"),
            "version": version_of(client, "/devices/"),
        },
    )


def fill(client, mac: str, **fields):
    data = {
        "csrf": csrf_of(client, f"/devices/{mac}/record"),
        "bought_by": "the local authority",
        "account_holder": "Jo (carer)",
        "handed_over": (date.today() - timedelta(days=2)).isoformat(),
        "reset": "yes",
        **{k: v for k, v in fields.items() if k != "check"},
    }
    form = MultiDict(list(data.items()) + [("check", item) for item in fields.get("check", [])])
    return client.post(f"/devices/{mac}/record", data=form)


def card(client, mac: str) -> str:
    """The text of one device's card on the Devices page."""
    page = client.get("/devices/").get_data(as_text=True)
    start = page.index(f'id="device-{mac.replace(":", "").replace(".", "-")}"')
    return page[start : page.index("</li>", start)]


def test_a_device_newly_given_to_a_child_asks_for_its_record(tmp_path, signed_in):
    seen(tmp_path)
    jo = signed_in("Jo", "carer")
    answer = assign(jo, TABLET, "sam")
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(f"/devices/{TABLET}/record")
    form = jo.get(answer.headers["Location"]).get_data(as_text=True)
    assert "now follows the rules of Sam. Now fill in its record." in form
    assert "Record not filled in yet." in form and "Who bought it" in form
    assert "Record not filled in" in card(jo, TABLET)
    # A household device is not a child's: nothing asks, and the card says nothing is missing.
    household = assign(jo, PHONE, "none")
    assert household.headers["Location"].endswith("/devices/")
    assert "not filled in" not in card(jo, PHONE)

    assert fill(jo, TABLET, check=["location_off", "bookmarked"]).status_code == 302
    assert "Record filled in; checklist 2 of 5" in card(jo, TABLET)
    # Assigning it again (to another child) does not ask twice for a record already there.
    again = assign(jo, TABLET, "alex")
    assert again.headers["Location"].endswith("/devices/")


def test_bad_answers_are_refused_by_their_field_and_nothing_is_kept(tmp_path, signed_in):
    seen(tmp_path)
    jo = signed_in("Jo", "carer")
    assign(jo, TABLET, "sam")
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    refused = fill(
        jo,
        TABLET,
        bought_by="",
        account_holder="x" * 81,
        handed_over=tomorrow,
        reset="maybe",
        check=["location_off", "made_up"],
    )
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    for field, words in (
        ("bought_by", "Say who bought it"),
        ("account_holder", "Keep this to 80 letters"),
        ("handed_over", "That date has not come yet"),
        ("reset", "Say whether the device was reset"),
        ("checklist", "Tick only the items in the list."),
    ):
        assert f'<p class="field-error" id="{field}-error">{words}' in page, field
        assert f'aria-describedby="{field}' in page or f"{field}-error" in page
    assert 'value="location_off" checked' in page  # what was ticked is shown again as left
    assert "x" * 81 in page  # the typed text comes back to be corrected
    # Found by the outside check: markup was kept where a device's name refuses it.
    markup = fill(jo, TABLET, bought_by="<img src=x onerror=alert(1)>")
    assert markup.status_code == 400
    assert (
        '<p class="field-error" id="bought_by-error">A name is plain words: leave out &lt;'
        in markup.get_data(as_text=True)
    )
    assert fill(jo, TABLET, handed_over="27/11/2026").status_code == 400
    assert "Give the date as day, month and year" in (
        fill(jo, TABLET, handed_over="27/11/2026").get_data(as_text=True)
    )
    with sqlite3.connect(tmp_path / "dashboard.db") as db:
        assert db.execute("SELECT count(*) FROM device_records").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM device_checks").fetchone() == (0,)
    assert "Record not filled in" in card(jo, TABLET)


def test_each_tick_and_untick_is_in_the_audit_trail_with_its_author(
    tmp_path, dashboard_app, signed_in
):
    seen(tmp_path)
    jo = signed_in("Jo", "carer")
    assign(jo, TABLET, "sam")
    assert fill(jo, TABLET, check=["location_off", "friends_only"]).status_code == 302
    kim = signed_in("Kim", "carer")
    ticks = ["friends_only", "parental_controls", "private_address_off"]
    assert fill(kim, TABLET, check=ticks).status_code == 302

    trail = [
        (e.user, e.action, e.detail)
        for e in audit_trail(dashboard_app)
        if e.action in ("device.check", "device.uncheck")
    ]
    assert trail == [
        ("Jo", "device.check", "ticked: location sharing off"),
        ("Jo", "device.check", "ticked: friends-only"),
        ("Kim", "device.uncheck", "unticked: location sharing off"),
        ("Kim", "device.check", "ticked: parental controls on"),
        ("Kim", "device.check", "ticked: private Wi-Fi address off"),
    ]
    targets = {e.target for e in audit_trail(dashboard_app) if e.action.startswith("device.")}
    assert f"lenovo-tab ({TABLET})" in targets
    record = [e for e in audit_trail(dashboard_app) if e.action == "device.record"][-1]
    assert record.user == "Kim" and "bought by the local authority" in record.detail

    page = jo.get(f"/devices/{TABLET}/record").get_data(as_text=True)
    assert "Ticked by Jo today at" in page  # friends-only: Kim left it ticked, Jo ticked it
    assert "Unticked by Kim today at" in page
    assert page.count("Ticked by Kim today at") == 2
    admin = signed_in("Ann", "administrator")
    trail_page = admin.get("/audit/").get_data(as_text=True)
    assert "unticked: location sharing off" in trail_page
    assert "unticked an item of a device&#39;s checklist" in trail_page


def test_a_viewer_reads_the_record_and_cannot_change_it(tmp_path, dashboard_app, signed_in):
    seen(tmp_path)
    jo = signed_in("Jo", "carer")
    assign(jo, TABLET, "sam")
    fill(jo, TABLET, check=["bookmarked"])
    val = signed_in("Val", "viewer")
    page = val.get(f"/devices/{TABLET}/record").get_data(as_text=True)
    assert "the local authority" in page and "Save the record" not in page
    assert "Done</strong> (ticked by Jo" in page
    refused = val.post(
        f"/devices/{TABLET}/record",
        data={"csrf": csrf_of(val, "/devices/"), "bought_by": "me", "reset": "no"},
    )
    assert refused.status_code == 403
    assert "me" not in [e.user for e in audit_trail(dashboard_app) if e.action == "device.record"]


def test_an_unknown_device_has_no_record_page(tmp_path, signed_in):
    seen(tmp_path)
    jo = signed_in("Jo", "carer")
    for mac in ("aa:bb:cc:17:99:99", "not-a-mac", "AA-BB-CC-17-00-01x"):
        assert jo.get(f"/devices/{mac}/record").status_code == 404, mac
    # The same device however its address is written.
    assert jo.get("/devices/AA-BB-CC-17-00-01/record").status_code == 200


def test_the_previous_releases_dashboard_db_gains_the_new_tables_in_place(tmp_path):
    path = tmp_path / "dashboard.db"
    old = sqlite3.connect(path)
    old.executescript(SCHEMA)  # the tables the previous release (version 1) made
    old.execute(
        "INSERT INTO users (name, role, password_hash, created) VALUES ('Jo', 'carer', 'x', 1)"
    )
    old.execute("PRAGMA user_version = 1")
    old.commit()
    old.close()
    db = connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"device_records", "device_checks", "practitioners", "practitioner_children"} <= tables
    assert db.execute("SELECT name, role FROM users").fetchall() == [("Jo", "carer")]
    db.close()


def test_the_rules_file_is_untouched_by_a_record(tmp_path, signed_in):
    seen(tmp_path)
    jo = signed_in("Jo", "carer")
    assign(jo, TABLET, "sam")
    before = yaml.safe_load((tmp_path / "rules.yaml").read_text())
    fill(jo, TABLET, check=["location_off"])
    assert yaml.safe_load((tmp_path / "rules.yaml").read_text()) == before


def api_post(client, path: str, body: dict):
    csrf = client.get("/api/session").get_json()["csrf"]
    return client.post(path, json=body, headers={"X-CSRF-Token": csrf})


def test_the_api_reads_and_saves_the_same_record_with_the_same_audit(
    tmp_path, dashboard_app, signed_in
):
    seen(tmp_path)
    jo = signed_in("Jo", "carer")
    assign(jo, TABLET, "sam")
    empty = jo.get(f"/api/devices/{TABLET}/record").get_json()
    assert empty["filled_in"] is False and empty["owner"] == "sam"
    assert empty["checklist"]["location_off"] == {"done": False, "by": "", "ts": None}

    bad = api_post(
        jo,
        f"/api/devices/{TABLET}/record",
        {"bought_by": "", "handed_over": "tomorrow", "reset": "yes", "checklist": "all"},
    )
    assert bad.status_code == 400
    assert set(bad.get_json()["fields"]) == {
        "bought_by",
        "account_holder",
        "handed_over",
        "checklist",
    }
    body = {
        "bought_by": "Sam's dad",
        "account_holder": "Sam's dad",
        "handed_over": (date.today() - timedelta(days=1)).isoformat(),
        "reset": "not_sure",
        "checklist": ["friends_only"],
    }
    saved = api_post(jo, f"/api/devices/{TABLET}/record", body)
    assert saved.status_code == 200, saved.get_json()
    record = saved.get_json()
    assert record["filled_in"] is True and record["checklist"]["friends_only"]["by"] == "Jo"
    assert "Record filled in; checklist 1 of 5" in card(jo, TABLET)  # the page agrees
    checks = [
        (e.user, e.action, e.detail)
        for e in audit_trail(dashboard_app)
        if e.action == "device.check"
    ]
    assert checks == [("Jo", "device.check", "ticked: friends-only")]

    val = signed_in("Val", "viewer")
    assert val.get(f"/api/devices/{TABLET}/record").get_json()["bought_by"] == "Sam's dad"
    assert api_post(val, f"/api/devices/{TABLET}/record", body).status_code == 403
    assert jo.get("/api/devices/aa:bb:cc:17:99:99/record").status_code == 404


def test_a_device_added_by_hand_for_a_child_asks_for_its_record_too(
    tmp_path, dashboard_app, signed_in
):
    seen(tmp_path)
    jo = signed_in("Jo", "carer")

    def add(address: str, owner: str, name: str):
        return jo.post(
            "/devices/add",
            data={
                "csrf": csrf_of(jo, "/devices/"),
                "version": version_of(jo, "/devices/"),
                "address": address,
                "name": name,
                "owner": owner,
            },
        )

    by_mac = add("AA:BB:CC:17:00:09", "alex", "Alex's console")
    assert by_mac.status_code == 302
    assert by_mac.headers["Location"].endswith("/devices/aa:bb:cc:17:00:09/record")
    assert "Now fill in its record." in jo.get(by_mac.headers["Location"]).get_data(as_text=True)
    # Listed by its address only (found by the outside check: it never got a record): its
    # record is kept by its address, asked for, filled in and shown on the Devices page.
    by_ip = add("192.168.1.77", "alex", "Alex's old laptop")
    assert by_ip.headers["Location"].endswith("/devices/192.168.1.77/record")
    form = jo.get(by_ip.headers["Location"]).get_data(as_text=True)
    assert "Now fill in its record." in form and "Alex&#39;s old laptop" in form
    assert "Record not filled in" in card(jo, "192.168.1.77")
    assert fill(jo, "192.168.1.77", check=["location_off"]).status_code == 302
    assert "Record filled in; checklist 1 of 5" in card(jo, "192.168.1.77")
    api = jo.get("/api/devices/192.168.1.77/record").get_json()
    assert api["filled_in"] and api["mac"] is None and api["key"] == "192.168.1.77"
    ticks = [e for e in audit_trail(dashboard_app) if e.action == "device.check"]
    assert ticks[-1].user == "Jo" and ticks[-1].target == "Alex's old laptop (192.168.1.77)"
    assert add("aa:bb:cc:17:00:0a", "none", "The TV").headers["Location"].endswith("/devices/")
