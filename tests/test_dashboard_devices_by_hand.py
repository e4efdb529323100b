"""Devices on a phone (issue 14): add by hand (by MAC or address), rename, remove, a visitor's
device, and "new" until someone decides; the page and the API through one action layer with one
audit entry each; bad input answered in plain words (page, next to the field) or JSON 4xx with
nothing lost. Flask's test client on a real rules file, real filterd.db and dashboard.db."""

from __future__ import annotations

import html
import re
import time

import yaml

from filterd.db.devices import Sighting
from filterd.rules.parse import parse_rules
from tests.support.dashboard_app import api_request, audit_trail, csrf_of, version_of
from tests.support.filterd_db import write_devices

PHONE = "aa:bb:cc:14:00:01"
LAPTOP = "aa:bb:cc:14:00:02"
NOT_AN_ADDRESS = (
    "That doesn't look like a device address. It looks like aa:bb:cc:dd:ee:ff or 192.168.1.23"
)


def rules_of(tmp_path) -> dict:
    return yaml.safe_load((tmp_path / "rules.yaml").read_text())


def seen(tmp_path, mac: str, address: str, hostname: str, ago: float = 60) -> None:
    write_devices(
        tmp_path / "filterd.db",
        [Sighting(mac, address, hostname, None, None, None, False, time.time() - ago)],
    )


def post(client, path: str, **form):
    form.setdefault("csrf", csrf_of(client, "/devices/"))
    form.setdefault("version", version_of(client, "/devices/"))
    return client.post(path, data=form)


def card(page: str, key: str) -> str:
    """One device's card from the Devices page."""
    ident = key.replace(":", "").replace(".", "-")
    match = re.search(rf'<li class="card[^"]*" id="device-{ident}">(.*?)</li>', page, re.S)
    assert match, f"no card for {key}"
    return match[1]


def test_a_new_device_starts_with_an_empty_owner_menu_and_stays_new_until_decided(
    tmp_path, dashboard_app, signed_in
):
    carer = signed_in("Cam", "carer")
    seen(tmp_path, PHONE, "192.168.1.50", "galaxy-a14", ago=3 * 86_400)  # seen days ago
    page = carer.get("/devices/").get_data(as_text=True)
    phone = card(page, PHONE)
    assert '<strong class="badge">New</strong>' in phone  # still new: nobody decided
    menu = re.search(r"<select[^>]*>(.*?)</select>", phone, re.S)[1]
    assert re.findall(r"<option[^>]*selected[^>]*>([^<]*)", menu) == ["Choose who uses this device"]
    before = (tmp_path / "rules.yaml").read_text()
    refused = post(carer, "/devices/assign", device=PHONE, owner="")
    assert refused.status_code == 400
    assert "Choose who uses this device" in card(refused.get_data(as_text=True), PHONE)
    assert (tmp_path / "rules.yaml").read_text() == before

    # A visitor's phone: decided (no longer new), still not in the rules, so filtered as the
    # home's choice for unknown devices says.
    done = post(carer, "/devices/assign", device=PHONE, owner="visitor")
    assert done.status_code == 302
    assert (tmp_path / "rules.yaml").read_text() == before
    phone = card(carer.get("/devices/").get_data(as_text=True), PHONE)
    assert "New</strong>" not in phone and "a visitor" in phone
    assert ("Cam", "device.assign", PHONE) in [(e.user, e.action, e.target) for e in
                                              audit_trail(dashboard_app)]  # fmt: skip

    # Assigned to Alex: in the rules, with the name it was given while unlisted.
    post(carer, "/devices/rename", device=PHONE, name="Alex's phone")
    assert post(carer, "/devices/assign", device=PHONE, owner="alex").status_code == 302
    entry = rules_of(tmp_path)["devices"][-1]
    assert entry == {"mac": PHONE, "name": "Alex's phone", "owner": "alex"}
    api_listed = carer.get("/api/devices").get_json()["devices"]
    assert [d["new"] for d in api_listed if d["key"] == PHONE] == [False]


def test_add_by_hand_on_the_page_and_bad_input_next_to_the_field(tmp_path, signed_in):
    carer = signed_in("Cam", "carer")
    before = (tmp_path / "rules.yaml").read_text()
    for address, name, owner, field, message in (
        ("aa:bb:cc:dd:ee", "Sam's phone", "sam", "address", NOT_AN_ADDRESS),
        ("192.168.1.300", "Sam's phone", "sam", "address", NOT_AN_ADDRESS),
        (
            "192.168.1.20",
            "Old tablet",
            "sam",
            "address",
            "already in the list, as Sam's tablet",
        ),
        (PHONE, "<b>Sam</b>", "sam", "name", "plain words: leave out < and >"),
        (
            PHONE,
            "x" * 100,
            "sam",
            "name",
            "A device's name can be at most 64 characters; this one has 100.",
        ),
        ("01:00:5e:00:00:01", "Sam's phone", "sam", "address", "not one device's"),
        ("ff:ff:ff:ff:ff:ff", "Sam's phone", "sam", "address", "not one device's"),
        (PHONE, "Sam's phone", "", "owner", "Choose who uses this device"),
        (PHONE, "Sam's phone", "visitor", "owner", "Choose who uses this device"),
    ):
        reply = post(carer, "/devices/add", address=address, name=name, owner=owner)
        assert reply.status_code == 400, address
        page = reply.get_data(as_text=True)
        error = re.search(
            rf'<p class="field-error" id="{field}-add-error"[^>]*>([^<]*(?:&[^<]*)*)', page
        )
        assert error and message in html.unescape(error[1]), address
        assert f'aria-describedby="{field}-add-error"' in page
        assert f'value="{address}"' in page or field == "address"  # what was typed is kept
        assert (tmp_path / "rules.yaml").read_text() == before, address
    assert "<b>Sam</b>" not in page

    assert (
        post(
            carer, "/devices/add", address=PHONE.upper(), name="Sam's phone", owner="sam"
        ).status_code
        == 302
    )
    assert rules_of(tmp_path)["devices"][-1] == {
        "mac": PHONE,
        "name": "Sam's phone",
        "owner": "sam",
    }
    added = card(carer.get("/devices/").get_data(as_text=True), PHONE)
    assert "Sam&#39;s phone" in added and "not yet (added by hand)" in added
    duplicate = post(carer, "/devices/add", address=PHONE, name="Again", owner="alex")
    assert duplicate.status_code == 400 and "already in the list" in duplicate.get_data(
        as_text=True
    )
    assert parse_rules((tmp_path / "rules.yaml").read_text()).devices[-1].owner == "sam"


def test_rename_and_remove_on_the_page(tmp_path, dashboard_app, signed_in):
    carer = signed_in("Cam", "carer")
    seen(tmp_path, LAPTOP, "192.168.1.60", "dell-laptop")
    assert post(carer, "/devices/assign", device=LAPTOP, owner="none").status_code == 302
    assert post(carer, "/devices/rename", device=LAPTOP, name="Office laptop").status_code == 302
    assert rules_of(tmp_path)["devices"][-1]["name"] == "Office laptop"
    bad = post(carer, "/devices/rename", device=LAPTOP, name="<script>x</script>")
    assert bad.status_code == 400
    assert "leave out &lt; and &gt;" in card(bad.get_data(as_text=True), LAPTOP)
    assert rules_of(tmp_path)["devices"][-1]["name"] == "Office laptop"

    assert post(carer, "/devices/remove", device=LAPTOP).status_code == 302
    assert LAPTOP not in (tmp_path / "rules.yaml").read_text()
    assert "device-" + LAPTOP.replace(":", "") not in carer.get("/devices/").get_data(as_text=True)
    # Seen again after its removal: back, new, not assigned.
    time.sleep(0.01)
    seen(tmp_path, LAPTOP, "192.168.1.60", "dell-laptop", ago=0)
    back = card(carer.get("/devices/").get_data(as_text=True), LAPTOP)
    assert '<strong class="badge">New</strong>' in back and "not assigned" in back
    # The device listed by address only can be removed too.
    assert post(carer, "/devices/remove", device="192.168.1.20").status_code == 302
    assert rules_of(tmp_path)["devices"] == "none"  # every device removed, said so
    actions = [(e.action, e.target) for e in audit_trail(dashboard_app)]
    assert ("device.rename", LAPTOP) in actions and ("device.remove", LAPTOP) in actions
    assert ("device.remove", "192.168.1.20") in actions


def test_the_api_adds_renames_and_removes_with_the_same_audit_and_plain_4xx(
    tmp_path, dashboard_app, signed_in
):
    viewer = signed_in("Val", "viewer")
    before = (tmp_path / "rules.yaml").read_text()
    refused = api_request(
        viewer, "POST", "/api/devices", {"address": PHONE, "name": "x", "owner": "sam"}
    )
    assert refused.status_code == 403
    assert (tmp_path / "rules.yaml").read_text() == before

    carer = signed_in("Cam", "carer")
    for body, field, message in (
        (
            {"address": "not-a-mac", "name": "Sam's phone", "owner": "sam"},
            "address",
            NOT_AN_ADDRESS,
        ),
        (
            {"address": "192.168.1.20", "name": "Tablet", "owner": "sam"},
            "address",
            "already in the list",
        ),
        ({"address": PHONE, "name": "<i>x</i>", "owner": "sam"}, "name", "leave out < and >"),
        ({"address": PHONE, "name": "Phone", "owner": "nobody"}, "owner", "Choose who uses"),
    ):
        reply = api_request(carer, "POST", "/api/devices", body)
        assert reply.status_code == 400, body
        assert reply.get_json()["field"] == field and message in reply.get_json()["error"]
        assert (tmp_path / "rules.yaml").read_text() == before
    added = api_request(
        carer,
        "POST",
        "/api/devices",
        {"address": "192.168.1.23", "name": "Console", "owner": "none"},
    )
    assert added.status_code == 201 and added.get_json()["key"] == "192.168.1.23"
    assert (
        api_request(
            carer, "POST", "/api/devices/192.168.1.23/name", {"name": "Living room console"}
        ).status_code
        == 200
    )
    assert rules_of(tmp_path)["devices"][-1] == {
        "ip": "192.168.1.23",
        "name": "Living room console",
        "owner": "none",
    }
    assert (
        api_request(carer, "POST", "/api/devices/192.168.1.99/name", {"name": "x"}).status_code
        == 404
    )
    stale = api_request(carer, "DELETE", "/api/devices/192.168.1.23", {"version": "0" * 64})
    assert stale.status_code == 409 and "192.168.1.23" in (tmp_path / "rules.yaml").read_text()
    assert api_request(carer, "DELETE", "/api/devices/192.168.1.23", {}).status_code == 200
    assert "192.168.1.23" not in (tmp_path / "rules.yaml").read_text()
    actions = [(e.user, e.action, e.target) for e in audit_trail(dashboard_app)]
    for action in ("device.add", "device.rename", "device.remove"):
        assert ("Cam", action, "192.168.1.23") in actions


def test_a_device_known_only_by_its_address_is_the_one_assigned_renamed_and_removed(tmp_path):
    """A games console listed by its address, and Sam's phone (listed by MAC) last seen at that
    same address after the router moved it: each card's form changes its own device, never the
    phone whose address happens to match."""
    from tests.support.dashboard_app import logged_in, make_app

    rules = {
        "timezone": "Europe/London",
        "children": {"sam": {"name": "Sam", "age_band": "9_12"}},
        "devices": [
            {"mac": PHONE, "name": "Sam's phone", "owner": "sam"},
            {"ip": "192.168.1.30", "name": "Games console", "owner": "none"},
        ],
    }
    carer = logged_in(make_app(tmp_path, rules), "Cam", "carer")
    seen(tmp_path, PHONE, "192.168.1.30", "sams-phone")
    page = carer.get("/devices/").get_data(as_text=True)
    assert "Sam&#39;s phone" in card(page, PHONE) and "Games console" in card(page, "192.168.1.30")

    done = post(carer, "/devices/assign", device="192.168.1.30", owner="sam")
    assert done.status_code == 302
    listed = {d.get("mac") or d["ip"]: d for d in rules_of(tmp_path)["devices"]}
    assert listed["192.168.1.30"]["owner"] == "sam"  # the console is Sam's now
    assert listed[PHONE]["owner"] == "sam" and listed[PHONE]["name"] == "Sam's phone"
    assert audit_trail(carer.application)[-1].target == "192.168.1.30"

    post(carer, "/devices/rename", device="192.168.1.30", name="Living-room console")
    listed = {d.get("mac") or d["ip"]: d for d in rules_of(tmp_path)["devices"]}
    assert listed["192.168.1.30"]["name"] == "Living-room console"
    assert listed[PHONE]["name"] == "Sam's phone"

    post(carer, "/devices/remove", device="192.168.1.30")
    assert [d.get("mac") for d in rules_of(tmp_path)["devices"]] == [PHONE]
    assert rules_of(tmp_path)["devices"][0]["owner"] == "sam"  # the phone stays filtered
