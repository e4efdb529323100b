"""Issue 17's agreements on the real dashboard (Flask test clients over real files: the rules
file, dashboard.db, filterd.db): recording, printing, signing, versions after a rules change,
who may do what, bad input, the child's own page and the monthly evidence report."""

from __future__ import annotations

import io
import re
import sqlite3
from datetime import date, timedelta
from html import unescape

import pytest
import yaml
from pypdf import PdfReader

from dashboard.actions import rules as rule_actions
from dashboard.child_side.app import create_child_app
from dashboard.data.accounts import Role, User
from dashboard.data.child_form import form_from_rules
from dashboard.reports.evidence import build as build_evidence
from tests.support.dashboard_app import RULES, audit_trail, csrf_of, logged_in, make_app
from tests.support.dashboard_forms import agreement_form

SAM_TABLET = "192.168.1.20"  # tests.support.dashboard_app.RULES: Sam's device


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def words(html: str) -> str:
    """A page's text as a person reads it (tags dropped, spaces folded)."""
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def change_bedtime(app, start: str) -> None:
    """A carer changes Sam's school-night bedtime through the action the rules page uses."""
    dashboard = app.extensions["dashboard"]
    snapshot = dashboard.rules.read()
    form = form_from_rules(snapshot.raw["children"]["sam"])
    form["school_start"] = start
    form["school_end"] = form["school_end"] or "07:00"
    carer = User(99, "cam", Role.CARER)
    with app.app_context():
        rule_actions.save_child(dashboard, carer, "sam", form, snapshot.version)


def test_record_print_sign_then_a_bedtime_change_starts_a_draft_and_the_old_stays(
    dashboard_app, signed_in
):
    carer = signed_in("cam", "carer")
    csrf = csrf_of(carer, "/children/sam/agreement")
    reply = carer.post("/children/sam/agreement", data=agreement_form(csrf))
    assert reply.status_code == 302

    printed = carer.get("/children/sam/agreement/1.pdf")
    assert printed.status_code == 200 and printed.mimetype == "application/pdf"
    text = pdf_text(printed.data)
    assert "Online-safety agreement: Sam" in text
    assert "Bedtime school nights: 20:30-07:00" in text  # the rules in force, in words
    assert "Daily limit: 3h" in text
    assert "I agree to: keep my tablet downstairs at night" in text
    assert "Social worker: Priya Shah" in text
    assert "The carer bought the tablet" in text
    assert "signed ____" in text  # signature lines

    reply = carer.post(
        "/children/sam/agreement/1/sign", data={"csrf": csrf, "signer": "Sam", "part": "child"}
    )
    assert reply.status_code == 302
    page = words(carer.get("/children/sam/agreement").get_data(as_text=True))
    assert "Signed on" in page and "Signed by Sam (the child), recorded by cam" in page
    assert "Agreement: Signed on" in words(carer.get("/").get_data(as_text=True))

    change_bedtime(dashboard_app, "19:45")
    home = words(carer.get("/").get_data(as_text=True))
    assert "Agreement: Out of date: the rules changed after it was signed" in home
    page = words(carer.get("/children/sam/agreement").get_data(as_text=True))
    assert "Out of date" in page and "Version 2 (draft, not signed)" in page
    assert "Bedtime school nights: 19:45-07:00" in page  # the draft says the new bedtime
    assert "school nights: 20:30 -> 19:45" in page  # the rule change behind it
    assert "I agree to: keep my tablet downstairs at night" in page  # people's words kept

    old = words(carer.get("/children/sam/agreement/1").get_data(as_text=True))
    assert "Bedtime school nights: 20:30-07:00" in old and "Signed by Sam" in old
    assert "19:45" not in old
    drafts = [e for e in audit_trail(dashboard_app) if e.action == "agreement.draft"]
    assert len(drafts) == 1 and "20:30 -> 19:45" in drafts[0].detail
    assert "version 2" in drafts[0].detail

    # Signing the version the carer read before the change is refused: there is a newer one.
    stale = carer.post(
        "/children/sam/agreement/1/sign", data={"csrf": csrf, "signer": "Jo", "part": "carer"}
    )
    assert stale.status_code == 409 and "Nothing was signed" in stale.get_data(as_text=True)
    reply = carer.post(
        "/children/sam/agreement/2/sign", data={"csrf": csrf, "signer": "Sam", "part": "child"}
    )
    assert reply.status_code == 302
    assert "Agreement: Signed on" in words(carer.get("/").get_data(as_text=True))


def test_a_pause_or_extra_time_does_not_make_the_agreement_out_of_date(signed_in):
    carer = signed_in("cam", "carer")
    csrf = csrf_of(carer, "/children/sam/agreement")
    carer.post("/children/sam/agreement", data=agreement_form(csrf))
    carer.post(
        "/children/sam/agreement/1/sign", data={"csrf": csrf, "signer": "Sam", "part": "child"}
    )
    version = re.search(r'name="version" value="([^"]+)"', carer.get("/").get_data(as_text=True))
    reply = carer.post(
        "/children/sam/quick",
        data={"csrf": csrf, "version": version[1], "action": "pause", "until_pause": "15"},
    )
    assert reply.status_code == 302
    assert "Agreement: Signed on" in words(carer.get("/").get_data(as_text=True))


def test_bad_input_is_answered_by_each_field_and_nothing_typed_is_lost(signed_in):
    carer = signed_in("cam", "carer")
    csrf = csrf_of(carer, "/children/sam/agreement")
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    form = agreement_form(
        csrf,
        agrees="x" * 501,
        parent_on=tomorrow,
        review="next spring",
        observation="on",
        will_tell="Jo \u202eevil",
    )
    reply = carer.post("/children/sam/agreement", data=form)
    assert reply.status_code == 400
    html = reply.get_data(as_text=True)
    errors = dict(re.findall(r'class="field-error" id="error-([a-z_]+)">([^<]+)<', html))
    assert "longer than 500 characters (501)" in errors["agrees"]
    assert "still to come" in errors["parent_on"]
    assert "say who took part" in errors["parent_name"]
    assert "give a date, like" in errors["review"]
    assert "write something here" in errors["observation_how"]
    assert "reverses the direction of text" in errors["will_tell"]
    assert 'aria-invalid="true"' in html and "x" * 501 in html  # typed text shown again
    assert "Priya Shah" in html
    assert "No agreement recorded" in words(carer.get("/").get_data(as_text=True))
    assert carer.post("/children/sam/agreement", data=agreement_form(csrf)).status_code == 302
    signing = carer.post(
        "/children/sam/agreement/1/sign", data={"csrf": csrf, "signer": " ", "part": "boss"}
    )
    assert signing.status_code == 400
    html = signing.get_data(as_text=True)
    errors = dict(re.findall(r'class="field-error" id="error-([a-z_]+)">([^<]+)<', html))
    assert errors == {
        "signer": "Name: type the name of the person who signed.",
        "part": "Who they are: choose one.",
    }
    assert "Not signed." in html


def test_a_viewer_reads_but_cannot_record_or_sign(dashboard_app, signed_in):
    carer = signed_in("cam", "carer")
    csrf = csrf_of(carer, "/children/sam/agreement")
    carer.post("/children/sam/agreement", data=agreement_form(csrf))
    viewer = signed_in("val", "viewer")
    page = viewer.get("/children/sam/agreement")
    assert page.status_code == 200 and "keep my tablet downstairs" in page.get_data(as_text=True)
    assert "Mark signed" not in page.get_data(as_text=True)
    csrf = csrf_of(viewer, "/children/sam/agreement")
    signed = viewer.post(
        "/children/sam/agreement/1/sign", data={"csrf": csrf, "signer": "Val", "part": "carer"}
    )
    assert signed.status_code == 403
    recorded = viewer.post("/children/sam/agreement", data=agreement_form(csrf))
    assert recorded.status_code == 403
    assert viewer.get("/children/sam/agreement/1.pdf").status_code == 200
    with sqlite3.connect(dashboard_app.extensions["dashboard"].settings.database) as db:
        assert db.execute("SELECT count(*) FROM agreement_signatures").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM agreement_versions").fetchone()[0] == 1


def test_the_safeguarding_lead_may_sign(signed_in):
    carer = signed_in("cam", "carer")
    csrf = csrf_of(carer, "/children/sam/agreement")
    carer.post("/children/sam/agreement", data=agreement_form(csrf))
    lead = signed_in("lee", "safeguarding_lead")
    csrf = csrf_of(lead, "/children/sam/agreement")
    reply = lead.post(
        "/children/sam/agreement/1/sign",
        data={"csrf": csrf, "signer": "Priya Shah", "part": "social_worker"},
    )
    assert reply.status_code == 302
    assert "Signed by Priya Shah (social worker), recorded by lee" in words(
        lead.get("/children/sam/agreement").get_data(as_text=True)
    )


def test_versions_cannot_be_changed_or_deleted_in_sqlite(dashboard_app, signed_in):
    carer = signed_in("cam", "carer")
    csrf = csrf_of(carer, "/children/sam/agreement")
    carer.post("/children/sam/agreement", data=agreement_form(csrf))
    with sqlite3.connect(dashboard_app.extensions["dashboard"].settings.database) as db:
        for statement in (
            "UPDATE agreement_versions SET fields = '{}'",
            "DELETE FROM agreement_versions",
        ):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                db.execute(statement)


def test_direct_observation_shows_on_the_card_to_every_carer_and_in_the_agreement(signed_in):
    lead = signed_in("lee", "safeguarding_lead")
    csrf = csrf_of(lead, "/children/sam/agreement")
    how = "An adult sits beside Sam in the lounge whenever the tablet is on"
    lead.post(
        "/children/sam/agreement",
        data=agreement_form(csrf, observation="on", observation_how=how),
    )
    other_carer = signed_in("kim", "carer")
    home = words(other_carer.get("/").get_data(as_text=True))
    assert f"Needs direct observation: {how}" in home
    printed = pdf_text(other_carer.get("/children/sam/agreement/1.pdf").data)
    assert "needs direct observation" in printed and how in printed.replace("\n", " ")


def test_the_childs_own_page_shows_their_words(dashboard_app, signed_in):
    carer = signed_in("cam", "carer")
    csrf = csrf_of(carer, "/children/sam/agreement")
    carer.post("/children/sam/agreement", data=agreement_form(csrf))
    config = dashboard_app.extensions["dashboard"].config
    child_side = create_child_app(config).test_client()
    page = child_side.get(
        "/me", headers={"Host": "filterd.home.arpa"}, environ_base={"REMOTE_ADDR": SAM_TABLET}
    )
    text = words(page.get_data(as_text=True))
    assert "You agreed to: keep my tablet downstairs at night." in text
    assert "If something upsets you, you will tell: Jo or my social worker Priya." in text
    other = child_side.get(
        "/me", headers={"Host": "filterd.home.arpa"}, environ_base={"REMOTE_ADDR": "192.168.1.99"}
    )
    assert "keep my tablet" not in other.get_data(as_text=True)  # never another device


def test_the_monthly_evidence_report_lists_each_childs_agreement_status(dashboard_app, signed_in):
    carer = signed_in("cam", "carer")
    csrf = csrf_of(carer, "/children/sam/agreement")
    soon = (date.today() + timedelta(days=3)).isoformat()
    carer.post("/children/sam/agreement", data=agreement_form(csrf, review=soon))
    carer.post(
        "/children/sam/agreement/1/sign", data={"csrf": csrf, "signer": "Sam", "part": "child"}
    )
    dashboard = dashboard_app.extensions["dashboard"]
    snapshot = dashboard.rules.read()
    tz = snapshot.rules.timezone
    with dashboard_app.app_context():
        document = build_evidence(
            date.today().strftime("%Y-%m"),
            dashboard.filterd_db(),
            dashboard.db(),
            snapshot.rules,
            snapshot.raw,
            None,
            tz,
        )
    text = pdf_text(document).replace("\n", " ")
    day = date.fromisoformat(soon).strftime("%d %b %Y")
    assert f"Online-safety agreement: Signed on {date.today():%d %b %Y}; Review due {day}" in text
    assert "Online-safety agreement: No agreement recorded." in text  # Alex


def test_a_hand_edit_of_the_rules_file_also_makes_the_signed_agreement_out_of_date(
    dashboard_app, signed_in
):
    carer = signed_in("cam", "carer")
    csrf = csrf_of(carer, "/children/sam/agreement")
    carer.post("/children/sam/agreement", data=agreement_form(csrf))
    carer.post(
        "/children/sam/agreement/1/sign", data={"csrf": csrf, "signer": "Sam", "part": "child"}
    )
    rules_path = dashboard_app.extensions["dashboard"].rules.path
    rules_path.write_text(rules_path.read_text().replace("overall: 3h", "overall: 2h"))
    home = words(carer.get("/").get_data(as_text=True))
    assert "Agreement: Out of date" in home
    page = words(carer.get("/children/sam/agreement").get_data(as_text=True))
    assert "Daily limit: 2h" in page and "Version 2 (draft, not signed)" in page
    assert "Daily limit: 3h" in words(carer.get("/children/sam/agreement/1").get_data(as_text=True))


def test_the_json_api_records_signs_and_reads_with_the_same_checks(signed_in):
    carer = signed_in("cam", "carer")
    token = carer.get("/api/session").get_json()["csrf"]
    headers = {"X-CSRF-Token": token}
    body = {k: v for k, v in agreement_form("").items() if k != "csrf"}
    bad = carer.post(
        "/api/children/sam/agreement", json={**body, "review": "soon"}, headers=headers
    )
    assert bad.status_code == 400 and "give a date" in bad.get_json()["fields"]["review"]
    assert (
        carer.post(
            "/api/children/sam/agreement", json={**body, "colour": "red"}, headers=headers
        ).status_code
        == 400
    )
    made = carer.post("/api/children/sam/agreement", json=body, headers=headers)
    assert made.status_code == 201 and made.get_json()["number"] == 1
    signed = carer.post(
        "/api/children/sam/agreement/1/sign",
        json={"signer": "Sam", "part": "child"},
        headers=headers,
    )
    assert signed.status_code == 200 and signed.get_json()["signatures"][0]["signer"] == "Sam"
    viewer = signed_in("val", "viewer")
    token = viewer.get("/api/session").get_json()["csrf"]
    refused = viewer.post(
        "/api/children/sam/agreement/1/sign",
        json={"signer": "Val", "part": "carer"},
        headers={"X-CSRF-Token": token},
    )
    assert refused.status_code == 403
    read = viewer.get("/api/children/sam/agreement").get_json()
    assert read["state"] == "signed" and len(read["versions"]) == 1
    assert {"setting": "daily limit", "value": "3h"} in read["versions"][0]["in_force"]
    assert viewer.get("/api/children/nobody/agreement").status_code == 404
    assert "/api/children/{child}/agreement" in viewer.get("/api/openapi.json").get_json()["paths"]


def test_a_rules_change_draft_does_not_say_who_took_part_in_the_old_one(dashboard_app, signed_in):
    """Found by the outside check: the draft a rules change made said "The child: Sam, on
    <the old date>" over rules that did not exist then."""
    carer = signed_in("cam", "carer")
    csrf = csrf_of(carer, "/children/sam/agreement")
    old_day = (date.today() - timedelta(days=7)).isoformat()
    form = agreement_form(csrf, child_on=old_day, carer_on=old_day)
    assert carer.post("/children/sam/agreement", data=form).status_code == 302
    change_bedtime(dashboard_app, "19:45")

    draft = words(carer.get("/children/sam/agreement").get_data(as_text=True))
    draft = draft[draft.index("Version 2 (draft, not signed)") :]
    assert "Bedtime school nights: 19:45-07:00" in draft
    assert f"on {old_day}" not in draft and "The child: Sam" not in draft
    assert "record who discussed the new ones" in draft
    assert "I agree to: keep my tablet downstairs at night" in draft  # the rest is kept
    assert "a peer at school has been unkind" in draft
    printed = pdf_text(carer.get("/children/sam/agreement/2.pdf").data)
    assert old_day not in printed and "Jo Carer" not in printed
    assert "Nobody recorded yet" in printed and "19:45" in printed
    # The signed version still says who took part in it.
    first = words(carer.get("/children/sam/agreement/1").get_data(as_text=True))
    assert f"The child: Sam, on {old_day}" in first


def test_a_review_date_already_passed_is_refused_by_the_field(signed_in):
    """Found by the outside check: a review date in the past was accepted."""
    carer = signed_in("cam", "carer")
    page = carer.get("/children/sam/agreement").get_data(as_text=True)
    today = date.today().isoformat()
    assert re.search(rf'id="f-review" name="review" type="date"[^>]* min="{today}"', page)
    csrf = csrf_of(carer, "/children/sam/agreement")
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    reply = carer.post("/children/sam/agreement", data=agreement_form(csrf, review=yesterday))
    assert reply.status_code == 400
    errors = dict(re.findall(r'class="field-error" id="error-([a-z_]+)">([^<]+)<', reply.text))
    assert errors == {"review": "Review date: that day has passed. Choose today or a later day."}
    assert "No agreement recorded" in words(carer.get("/").get_data(as_text=True))
    today_form = agreement_form(csrf, review=today)
    assert carer.post("/children/sam/agreement", data=today_form).status_code == 302


def test_signing_says_who_is_still_to_sign_and_refuses_the_same_person_twice(
    dashboard_app, signed_in
):
    """Found by the outside check: nothing said who had not signed, the same name and part
    could sign twice, a version that never existed answered "The rules changed" (409), and
    signing before any agreement existed said nothing useful."""
    carer = signed_in("cam", "carer")
    csrf = csrf_of(carer, "/children/sam/agreement")
    before = carer.post(
        "/children/sam/agreement/1/sign", data={"csrf": csrf, "signer": "Sam", "part": "child"}
    )
    assert before.status_code == 404
    assert "No agreement is recorded for this child yet" in words(before.get_data(as_text=True))
    assert carer.post("/children/sam/agreement", data=agreement_form(csrf)).status_code == 302
    page = words(carer.get("/children/sam/agreement").get_data(as_text=True))
    assert (
        "Still to sign, of those who took part: Sam (the child), Jo Carer (carer),"
        " Priya Shah (social worker)." in page
    )

    def sign(number: int, signer: str, part: str):
        form = {"csrf": csrf, "signer": signer, "part": part}
        return carer.post(f"/children/sam/agreement/{number}/sign", data=form)

    assert sign(1, "Sam", "child").status_code == 302
    page = words(carer.get("/children/sam/agreement").get_data(as_text=True))
    assert "Still to sign, of those who took part: Jo Carer (carer), Priya Shah" in page
    again = sign(1, " sam ", "child")
    assert again.status_code == 400
    assert "Sam has already signed version 1 as the child." in words(again.text)
    assert len(agreement_signatures(dashboard_app)) == 1
    missing = sign(99, "Jo Carer", "carer")
    assert missing.status_code == 404 and "has no version 99" in words(missing.text)
    assert "The rules changed" not in missing.text
    assert sign(1, "Jo Carer", "carer").status_code == 302
    assert sign(1, "Priya Shah", "social_worker").status_code == 302
    page = words(carer.get("/children/sam/agreement").get_data(as_text=True))
    assert "Everyone recorded as taking part has signed." in page


def agreement_signatures(app) -> list[tuple]:
    with sqlite3.connect(app.extensions["dashboard"].settings.database) as db:
        return db.execute("SELECT signer, part FROM agreement_signatures").fetchall()


def test_apps_and_search_engines_are_named_as_people_know_them(tmp_path):
    """Found by the outside check: "App roblox: blocked", "Safe search google: on"."""
    rules = yaml.safe_load(yaml.safe_dump(RULES))
    rules["children"]["sam"]["services"] = {"roblox": "blocked"}
    app = make_app(tmp_path, rules)
    carer = logged_in(app, "cam", "carer")
    csrf = csrf_of(carer, "/children/sam/agreement")
    assert carer.post("/children/sam/agreement", data=agreement_form(csrf)).status_code == 302
    page = words(carer.get("/children/sam/agreement").get_data(as_text=True))
    assert "Roblox (app): blocked" in page and "App roblox" not in page
    assert "Safe search on Google: on" in page
    printed = pdf_text(carer.get("/children/sam/agreement/1.pdf").data)
    assert "Roblox (app): blocked" in printed and "Safe search on Google: on" in printed


def test_words_the_pdf_font_cannot_print_are_marked_never_dropped(signed_in):
    """Found by the outside check: the PDF silently dropped Chinese and maths letters from a
    child's own words."""
    carer = signed_in("cam", "carer")
    csrf = csrf_of(carer, "/children/sam/agreement")
    form = agreement_form(csrf, agrees="call 奶奶 on Sundays", will_tell="Jo \U0001d400")
    assert carer.post("/children/sam/agreement", data=form).status_code == 302
    page = words(carer.get("/children/sam/agreement").get_data(as_text=True))
    assert "Some characters here cannot be printed in the PDF" in page
    assert "call 奶奶 on Sundays" in page  # the page keeps every character
    printed = pdf_text(carer.get("/children/sam/agreement/1.pdf").data)
    assert "Some characters could not be printed" in printed
    assert "see the agreement on the dashboard" in printed
    assert "I agree to: call \u25a1\u25a1 on Sundays" in printed
    assert "I will tell: Jo \u25a1" in printed
    # an agreement the font prints whole says nothing of the kind
    carer.post("/children/sam/agreement", data=agreement_form(csrf, agrees="Zoë's rules"))
    assert "could not be printed" not in pdf_text(carer.get("/children/sam/agreement/2.pdf").data)
    assert "cannot be printed" not in carer.get("/children/sam/agreement").get_data(as_text=True)


def test_a_limit_on_a_blocked_category_is_not_shown_as_time_left(tmp_path):
    """Found by the outside check: with gaming blocked, its 2h limit still stood in the
    agreement, and the card and the child's page counted "0 of 120 minutes"."""
    rules = yaml.safe_load(yaml.safe_dump(RULES))
    sam = rules["children"]["sam"]
    sam["limits"] = {"overall": "3h", "gaming": "2h"}
    sam["block_categories"] = ["gaming"]
    app = make_app(tmp_path, rules)
    carer = logged_in(app, "cam", "carer")
    csrf = csrf_of(carer, "/children/sam/agreement")
    assert carer.post("/children/sam/agreement", data=agreement_form(csrf)).status_code == 302
    page = words(carer.get("/children/sam/agreement").get_data(as_text=True))
    assert "Daily limit: 3h" in page and "Daily limit Gaming" not in page
    assert "Daily limit gaming" not in page
    home = words(carer.get("/").get_data(as_text=True))
    assert "of 180 min" in home and "of 120 min" not in home
    child_side = create_child_app(app.extensions["dashboard"].config).test_client()
    me = child_side.get(
        "/me", headers={"Host": "filterd.home.arpa"}, environ_base={"REMOTE_ADDR": SAM_TABLET}
    )
    text = words(me.get_data(as_text=True))
    assert "Time online today" in text and "120" not in text and "gaming" not in text.lower()
