"""The children rules editor and the devices page, with Flask's test client on real files."""

from __future__ import annotations

import html
import re
import time
from dataclasses import replace

import pytest
import yaml

from dashboard.data.child_form import SCREENS
from filterd.db.devices import Sighting
from filterd.rules.parse import parse_rules
from tests.support.dashboard_app import RULES, audit_trail, csrf_of, logged_in, make_app, version_of
from tests.support.dashboard_forms import sam_form, save_sam
from tests.support.filterd_db import write_devices

ROLES = ("administrator", "carer", "safeguarding_lead", "viewer")
EDITORS = {"administrator", "carer"}
SCRIPT = "<script>alert(1)</script>"
IPHONE = "aa:bb:cc:00:00:01"
PRIVATE = "3a:bb:cc:00:00:02"


def audit_actions(app) -> list[tuple[str, str, str]]:
    """Rule and device changes in the audit trail (not log-ins)."""
    return [(e.user, e.action, e.target) for e in audit_trail(app) if e.action != "login"]


def seen_devices(tmp_path) -> None:
    now = time.time()
    write_devices(
        tmp_path / "filterd.db",
        [
            Sighting(
                IPHONE, "192.168.1.40", SCRIPT, "Apple, Inc.", None, None, False, now - 5 * 86400
            ),
            Sighting(PRIVATE, "192.168.1.41", "kims-phone", None, None, None, True, now - 60),
        ],
    )


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_the_pages_and_only_editors_get_forms(tmp_path, role, signed_in):
    client = signed_in("Pat", role)
    seen_devices(tmp_path)
    for path in ("/children/", "/children/sam", "/devices/"):
        page = client.get(path)
        assert page.status_code == 200, path
    child = client.get("/children/sam/blocked").get_data(as_text=True)
    assert "Sexually explicit" in child or "sexually explicit" in child
    for screen in SCREENS:
        page = client.get(f"/children/sam/{screen}").get_data(as_text=True)
        assert ('<button type="submit">Save</button>' in page) == (role in EDITORS), screen
    assert ("Add child" in client.get("/children/").get_data(as_text=True)) == (role in EDITORS)
    devices = client.get("/devices/").get_data(as_text=True)
    assert ("Save who uses it</button>" in devices) == (role in EDITORS)
    nav = client.get("/children/").get_data(as_text=True)
    assert 'href="/children/">Rules</a>' in nav and 'href="/devices/">Devices</a>' in nav


@pytest.mark.parametrize("role", ROLES)
def test_only_administrators_and_carers_can_save(tmp_path, role, dashboard_app, signed_in):
    client = signed_in("Pat", role)
    seen_devices(tmp_path)
    rules_path = tmp_path / "rules.yaml"
    before = rules_path.read_text()
    csrf = csrf_of(client, "/children/")
    version = version_of(client, "/children/sam/limits")
    attempts = [
        client.post(
            "/children/sam/limits",
            data={**sam_form(tmp_path, school_start="21:00"), "csrf": csrf, "version": version},
        ),
        client.post(
            "/children/",
            data={
                "id": "kim",
                "name": "Kim",
                "age_band": "13_15",
                "csrf": csrf,
                "version": version,
            },
        ),
        client.post(
            "/devices/assign",
            data={"mac": IPHONE, "owner": "alex", "csrf": csrf, "version": version},
        ),
    ]
    if role in EDITORS:
        assert attempts[0].status_code == 302
        assert rules_path.read_text() != before
    else:
        assert [a.status_code for a in attempts] == [403, 403, 403]
        assert rules_path.read_text() == before
        # nothing changed; each refusal is in the audit trail (issue 12, finding 9)
        assert sorted(audit_actions(dashboard_app)) == [
            ("Pat", "refused", "POST /children/"),
            ("Pat", "refused", "POST /children/sam/limits"),
            ("Pat", "refused", "POST /devices/assign"),
        ]


def test_a_carer_changes_bedtime_and_filterd_accepts_the_file(tmp_path, dashboard_app, signed_in):
    client = signed_in("Jo", "carer")
    response = save_sam(client, tmp_path, school_start="21:00", school_end="07:15")
    assert response.status_code == 302
    assert "Saved Sam" in client.get(response.headers["Location"]).get_data(as_text=True)
    text = (tmp_path / "rules.yaml").read_text()
    sam = parse_rules(text).children["sam"]
    assert (sam.offline[0].start, sam.offline[0].end) == (21 * 60, 7 * 60 + 15)
    assert yaml.safe_load(text)["children"]["sam"]["offline"][0] == {
        "days": "school_nights",
        "start": "21:00",
        "end": "07:15",
    }
    assert ("Jo", "rules.save", "sam") in audit_actions(dashboard_app)


def test_saving_the_form_unchanged_keeps_the_child_on_their_preset(tmp_path, signed_in):
    client = signed_in("Jo", "carer")
    assert save_sam(client, tmp_path).status_code == 302
    sam = yaml.safe_load((tmp_path / "rules.yaml").read_text())["children"]["sam"]
    assert sam == RULES["children"]["sam"]


def test_categories_limits_lists_and_safe_search_are_saved(tmp_path, signed_in):
    client = signed_in("Jo", "carer")
    form = sam_form(tmp_path, limit_gaming="90", deny="tiktok.com\nroblox.com\n")
    form["block"] = [c for c in form["block"] if c != "social"]
    form.pop("bing")
    form.update(youtube="moderate", walled_garden="on", blocked_answer="nxdomain")
    for screen in SCREENS:  # each screen saves its own fields
        page = f"/children/sam/{screen}"
        form.update(csrf=csrf_of(client, page), version=version_of(client, page))
        assert client.post(page, data=form).status_code == 302
    text = (tmp_path / "rules.yaml").read_text()
    sam = parse_rules(text).children["sam"]
    assert sam.limits.categories == {"gaming": 90} and sam.limits.overall == 180
    assert len(sam.deny) == 2 and sam.walled_garden
    assert not sam.safe_search.bing and sam.safe_search.youtube == "moderate"
    assert "social" not in yaml.safe_load(text)["children"]["sam"]["block_categories"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("school_start", "9pm", "Bedtime start: use a time like 21:30."),
        ("school_end", "", "Bedtime end: use a time like 07:00, or leave both empty."),
        ("weekend_start", "", "Bedtime start: use a time like 21:30, or leave both empty."),
        ("weekend_end", "21:00", "Bedtime end: a different time from the start, like 07:00."),
        (
            "allow",
            "bbc.co.uk\nnot a domain!",
            "Sites: one site per line, like bbc.co.uk (no spaces, no https://).",
        ),
        ("limit_overall", "lots", "Daily limit: a number of minutes from 0 to 1440."),
        ("limit_gaming", "5000", "Daily limit: a number of minutes from 0 to 1440."),
    ],
)
def test_a_refused_value_is_said_in_plain_words_by_its_field_and_keeps_the_input(
    tmp_path, field, value, message, dashboard_app, signed_in
):
    client = signed_in("Jo", "carer")
    rules_path = tmp_path / "rules.yaml"
    before = rules_path.read_text()
    changes = {field: value, "weekend_start": "21:00"} if field == "weekend_end" else {field: value}
    if value == "":  # one end of a bedtime cleared, the other typed
        other = "school_start" if field == "school_end" else "weekend_end"
        changes[other] = "21:45" if other == "school_start" else "07:45"
    if field == "allow":
        changes["name"] = "Sammy"
    response = save_sam(client, tmp_path, **changes)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    error = re.search(rf'<span class="field-error" id="{field}-error">([^<]*)</span>', page)
    assert error and html.unescape(error[1]) == message
    assert f'aria-describedby="{field}-error" aria-invalid="true"' in page
    assert html.escape(value.splitlines()[-1] if value else "") in page, "input kept"
    assert all(f'value="{typed}"' in page for typed in changes.values() if ":" in typed)
    if field == "allow":
        assert 'value="Sammy"' in page
    for internal in ("children.", "offline[", "limits.", "expected HH:MM", "sam.allow"):
        assert internal not in html.unescape(page)
    assert rules_path.read_text() == before
    assert audit_actions(dashboard_app) == []


def test_a_screen_saves_only_its_own_fields(tmp_path, signed_in):
    client = signed_in("Jo", "carer")
    form = sam_form(tmp_path, school_start="21:30", school_end="07:00", deny="tiktok.com")
    form.update(csrf=csrf_of(client, "/children/sam/limits"))
    form.update(version=version_of(client, "/children/sam/limits"))
    assert client.post("/children/sam/limits", data=form).status_code == 302
    sam = parse_rules((tmp_path / "rules.yaml").read_text()).children["sam"]
    assert (sam.offline[0].start, sam.offline[0].end) == (21 * 60 + 30, 7 * 60)
    assert not sam.deny, "the sites list is on the advanced screen, not this one"
    card = client.get("/children/sam").get_data(as_text=True)
    assert "School nights: offline 21:30 to 07:00" in card


def test_a_stale_rules_edit_is_refused(tmp_path, signed_in):
    client = signed_in("Jo", "carer")
    version = version_of(client, "/children/sam/limits")
    rules_path = tmp_path / "rules.yaml"
    rules_path.write_text(rules_path.read_text() + "# edited by hand\n")
    before = rules_path.read_text()
    response = save_sam(client, tmp_path, version=version, school_start="21:00")
    assert response.status_code == 409
    assert "changed by someone else" in response.get_data(as_text=True)
    assert 'value="21:00"' in response.get_data(as_text=True)
    assert rules_path.read_text() == before


def _add(client, name: str, band: str = "13_15"):
    csrf, version = csrf_of(client, "/children/"), version_of(client, "/children/")
    data = {"name": name, "age_band": band, "csrf": csrf, "version": version}
    return client.post("/children/", data=data)


def _visible_text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_adding_a_child_makes_their_id_from_the_name(tmp_path, dashboard_app, signed_in):
    client = signed_in("Jo", "administrator")
    page = client.get("/children/").get_data(as_text=True)
    assert 'name="id"' not in page and "id (" not in page, "the id is never asked for"
    made = _add(client, "Mia-Rose O'Neil")
    assert made.headers["Location"] == "/children/mia-rose-oneil"
    again = _add(client, "Mia-Rose O\u2019Neil", "9_12")  # another child with the same name
    assert again.headers["Location"] == "/children/mia-rose-oneil-2"
    cyrillic = _add(client, "Мария")
    assert cyrillic.headers["Location"] == "/children/child"
    assert _add(client, "None").headers["Location"] == "/children/none-2"  # "none" is reserved
    rules = parse_rules((tmp_path / "rules.yaml").read_text())
    assert rules.children["mia-rose-oneil"].age_band == "13_15"
    assert rules.children["child"].name == "Мария"
    assert ("Jo", "child.add", "mia-rose-oneil-2") in audit_actions(dashboard_app)
    for path in ("/children/", "/children/mia-rose-oneil-2", "/children/mia-rose-oneil-2/advanced"):
        text = _visible_text(client.get(path).get_data(as_text=True))
        assert "mia-rose-oneil" not in text, f"the id is shown on {path}"
    assert "Mia-Rose O\u2019Neil" in _visible_text(client.get("/children/").get_data(as_text=True))


def test_a_refused_new_child_is_said_by_its_field(tmp_path, dashboard_app, signed_in):
    client = signed_in("Jo", "administrator")
    before = (tmp_path / "rules.yaml").read_text()
    bad = _add(client, "Kim\u0007")
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert 'id="add-name-error">Name: use ordinary letters and spaces' in page
    assert "children." not in page and "kim" not in _visible_text(page).lower().replace(
        "kim\\u0007", ""
    )
    assert (tmp_path / "rules.yaml").read_text() == before
    band = _add(client, "Kim", "adult").get_data(as_text=True)
    assert 'id="add-band-error">Age band: choose one from the list.' in band
    assert "age_band" not in _visible_text(band)


def test_the_child_page_lists_the_childs_devices(signed_in):
    client = signed_in("Jo", "viewer")
    assert "Sam&#39;s tablet" in client.get("/children/sam").get_data(as_text=True)
    assert "No devices assigned yet" in client.get("/children/alex").get_data(as_text=True)
    assert client.get("/children/nobody").status_code == 404


def test_devices_show_vendor_private_flag_new_and_are_escaped(tmp_path, signed_in):
    client = signed_in("Jo", "carer")
    assert "filterd has not run yet" in client.get("/devices/").get_data(as_text=True)
    seen_devices(tmp_path)
    page = client.get("/devices/").get_data(as_text=True)
    assert SCRIPT not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Apple, Inc." in page and "private address" in page
    # Neither is in the rules: both are new until someone decides, however long ago seen.
    assert page.count('class="card new-device"') == 2 and "kims-phone" in page
    assert "Location sharing off" in page and "Private (random) Wi-Fi address off" in page


def test_assigning_a_device_adds_or_updates_its_entry_by_mac(tmp_path, dashboard_app, signed_in):
    client = signed_in("Jo", "carer")
    seen_devices(tmp_path)
    rules_path = tmp_path / "rules.yaml"

    def assign(owner: str, version: str | None = None):
        return client.post(
            "/devices/assign",
            data={
                "mac": IPHONE,
                "owner": owner,
                "csrf": csrf_of(client, "/devices/"),
                "version": version or version_of(client, "/devices/"),
            },
            follow_redirects=True,
        )

    assert "now follows the rules of Alex" in assign("alex").get_data(as_text=True)
    assert assign("none").status_code == 200
    devices = yaml.safe_load(rules_path.read_text())["devices"]
    # The name the device gave itself, made plain words (filterd refuses < and > in a name)
    plain = "scriptalert(1)/script"
    assert devices[-1] == {"mac": IPHONE, "name": plain, "owner": "none"} and len(devices) == 2
    rules = parse_rules(rules_path.read_text())
    assert [d.owner for d in rules.devices if d.mac == IPHONE] == [None]
    assert "household" in client.get("/devices/").get_data(as_text=True)
    assert ("Jo", "device.assign", IPHONE) in audit_actions(dashboard_app)

    before = rules_path.read_text()
    assert "Choose who uses this device" in assign("nobody").get_data(as_text=True)
    stale = assign("alex", version="0" * 64)
    assert "changed by someone else" in stale.get_data(as_text=True)
    assert rules_path.read_text() == before


def test_the_block_page_answer_is_refused_unless_the_box_serves_the_block_page(tmp_path, signed_in):
    client = signed_in("Jo", "carer")  # no dashboard.http_listen: nothing serves the block page
    before = (tmp_path / "rules.yaml").read_text()
    page = client.get("/children/sam/advanced").get_data(as_text=True)
    assert "this home&#39;s blocked page" not in page  # not offered
    refused = save_sam(client, tmp_path, blocked_answer="block_page")
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert 'id="blocked_answer-error"' in text and "blocked page is not switched on" in text
    assert (tmp_path / "rules.yaml").read_text() == before

    served = tmp_path / "served"
    served.mkdir()
    app = make_app(served)
    app.extensions["dashboard"].settings = replace(
        app.extensions["dashboard"].settings, http_listen="127.0.0.1:8080"
    )
    client = logged_in(app, "Jo", "carer")
    advanced = client.get("/children/sam/advanced").get_data(as_text=True)
    assert "this home&#39;s blocked page" in advanced
    assert save_sam(client, served, blocked_answer="block_page").status_code == 302
    sam = yaml.safe_load((served / "rules.yaml").read_text())["children"]["sam"]
    assert sam["blocked_answer"] == "block_page"


def test_the_device_checklist_says_to_bookmark_the_childs_own_page(signed_in):
    client = signed_in("Jo", "carer")
    page = client.get("/devices/").get_data(as_text=True)
    assert "bookmark to http://filterd.home.arpa/me" in page


def test_a_hand_edited_rules_file_that_filterd_refuses_is_explained_without_key_paths(
    tmp_path, signed_in
):
    client = signed_in("Jo", "carer")
    rules_path = tmp_path / "rules.yaml"
    raw = yaml.safe_load(rules_path.read_text())
    raw["children"]["sam"]["offline"] = [{"days": "school_nights", "start": "9pm", "end": "07:00"}]
    raw["devices"][0]["mac"] = "not-a-mac"
    raw["timezone"] = "Mars/Olympus"
    raw.pop("end_of_rules", None)
    rules_path.write_text(yaml.safe_dump(raw) + "end_of_rules: true\n")
    for path in ("/children/", "/children/sam", "/children/sam/limits", "/devices/"):
        text = _visible_text(client.get(path).get_data(as_text=True))
        assert "filterd refuses the rules file as it is now" in text, path
        assert "In one child's settings: Bedtime start: use a time like 21:30." in text, path
        assert "A device in the rules file has an address, name or owner" in text, path
        assert "The rules file names an unknown time zone for the home" in text, path
        for internal in ("children.sam", "offline[0]", "devices[0]", "timezone:", "HH:MM"):
            assert internal not in text, (path, internal)


def test_a_problem_in_a_field_on_another_screen_is_said_at_the_top(tmp_path, signed_in):
    client = signed_in("Jo", "carer")
    rules_path = tmp_path / "rules.yaml"
    raw = yaml.safe_load(rules_path.read_text())
    raw["children"]["sam"]["deny"] = ["not a site"]  # a hand edit, on the advanced screen
    raw.pop("end_of_rules", None)
    rules_path.write_text(yaml.safe_dump(raw) + "end_of_rules: true\n")
    before = rules_path.read_text()
    response = save_sam(client, tmp_path, school_start="21:00", school_end="07:00")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    top = page.split('id="problems"', 1)[1].split("</div>", 1)[0]
    assert "Sites: one site per line, like bbc.co.uk" in html.unescape(top)
    assert 'id="deny-error"' not in page  # that field is not on the bedtime screen
    assert rules_path.read_text() == before


def test_a_child_with_no_answer_style_of_their_own_follows_the_homes(tmp_path):
    """Advanced says "the home's choice" for a child with no blocked_answer (filterd answers
    them in the home's style); saving it keeps none, and a new child gets none either."""
    app = make_app(tmp_path, extra={"blocked_answer": {"style": "block_page"}})
    app.extensions["dashboard"].settings = replace(
        app.extensions["dashboard"].settings, http_listen="127.0.0.1:8080"
    )
    client = logged_in(app, "Jo", "administrator")
    page = client.get("/children/sam/advanced").get_data(as_text=True)
    answer = page[page.index('id="blocked_answer"') :]
    chosen = re.search(r'<option value="([^"]*)" selected>([^<]*)</option>', answer)
    assert chosen is not None
    assert chosen.group(1) == ""
    assert html.unescape(chosen.group(2)) == "the home's choice (this home's blocked page)"
    assert save_sam(client, tmp_path, screen="advanced").status_code == 302
    sam = yaml.safe_load((tmp_path / "rules.yaml").read_text())["children"]["sam"]
    assert "blocked_answer" not in sam  # still the home's, whatever the home chooses later
    assert parse_rules((tmp_path / "rules.yaml").read_text()).children["sam"].blocked_answer is None

    assert save_sam(client, tmp_path, blocked_answer="null_ip").status_code == 302
    sam = yaml.safe_load((tmp_path / "rules.yaml").read_text())["children"]["sam"]
    assert sam["blocked_answer"] == "null_ip"  # a carer's own choice is kept as chosen

    _add(client, "Mia")
    mia = yaml.safe_load((tmp_path / "rules.yaml").read_text())["children"]["mia"]
    assert "blocked_answer" not in mia
    text = client.get("/children/mia/advanced").get_data(as_text=True)
    assert '<option value="" selected>the home\'s choice' in text
