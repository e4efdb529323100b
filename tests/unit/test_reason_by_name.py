"""Opening a high-risk site or app by name asks for a reason, as unblocking its category does.

A carer who puts a suicide forum or a porn site on a child's allow list, or allows a dating
app, loosens that child's protection as much as one who unblocks the category: the API answers
422 "reason needed" and the pages say so by the Save button; with a reason the save is made
and the reason is kept in the audit entry. Names are judged by the real index built from the
shipped lists (the one filterd answers from), apps by the shipped catalogue.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.data.rules_file import raw_rules
from filterd.lists.settings import BlocklistSettings, ListsUpdate
from filterd.lists.update import build_index
from tests.support.dashboard_app import audit_trail, logged_in, make_app


@pytest.fixture
def app(tmp_path: Path):
    lists = tmp_path / "lists"
    build_index(BlocklistSettings(lists_update=ListsUpdate(directory=lists)), online=False)
    return make_app(tmp_path, extra={"lists_update": {"directory": str(lists)}})


def _put(client, change) -> tuple[int, dict]:
    current = client.get("/api/rules").get_json()
    session = client.get("/api/session").get_json()
    rules = current["rules"]
    change(rules)
    body = {"version": current["version"], "rules": rules}
    reason = rules.pop("_reason", None)
    if reason:
        body["reason"] = reason
    response = client.put("/api/rules", json=body, headers={"X-CSRF-Token": session["csrf"]})
    return response.status_code, response.get_json()


def _rules_on_disk(app) -> dict:
    return raw_rules(app.extensions["dashboard"].rules.path.read_text())


def test_allow_list_with_high_risk_names_needs_a_reason_in_the_api(app):
    carer = logged_in(app, "Jo", "carer")

    def allow(rules):
        rules["children"]["alex"]["allow"] = ["sanctioned-suicide.org", "pornhub.com"]

    status, body = _put(carer, allow)
    assert status == 422, body
    assert body["error"] == "reason needed"
    assert "sanctioned-suicide.org" in "; ".join(body["loosened"])
    assert "allow" not in _rules_on_disk(app)["children"]["alex"], "nothing saved"

    def allow_with_reason(rules):
        allow(rules)
        rules["_reason"] = "Research project agreed with the social worker"

    status, body = _put(carer, allow_with_reason)
    assert status == 200, body
    assert _rules_on_disk(app)["children"]["alex"]["allow"] == [
        "sanctioned-suicide.org",
        "pornhub.com",
    ]
    assert "reason: Research project agreed with the social worker" in audit_trail(app)[-1].detail


def test_an_ordinary_name_or_a_deny_entry_needs_no_reason(app):
    carer = logged_in(app, "Jo", "carer")

    def ordinary(rules):
        rules["children"]["alex"]["allow"] = ["bbc.co.uk"]
        rules["children"]["alex"]["deny"] = ["pornhub.com"]

    status, body = _put(carer, ordinary)
    assert status == 200, body


def test_allowing_a_dating_app_needs_a_reason_in_the_api_and_the_apps_page(app):
    carer = logged_in(app, "Jo", "carer")

    def tinder(rules):
        rules["children"]["alex"]["services"] = {"tinder": "allowed"}

    status, body = _put(carer, tinder)
    assert status == 422 and body["error"] == "reason needed", body

    page = carer.get("/children/alex/apps/tinder")
    assert b"Reason for allowing it" in page.data
    version = app.extensions["dashboard"].rules.read().version
    csrf = carer.get("/api/session").get_json()["csrf"]
    form = {"csrf": csrf, "version": version, "from": "app", "choice": "allowed"}
    refused = carer.post("/children/alex/apps/tinder", data=form)
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert text.count("allowing it needs a reason") == 1, "said once, by the Allow button"
    assert "services" not in _rules_on_disk(app)["children"]["alex"]

    saved = carer.post("/children/alex/apps/tinder", data={**form, "reason": "Aged 18 next week"})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert _rules_on_disk(app)["children"]["alex"]["services"] == {"tinder": "allowed"}
    assert "reason: Aged 18 next week" in audit_trail(app)[-1].detail


def test_the_child_page_asks_for_a_reason_by_the_save_button(app):
    carer = logged_in(app, "Jo", "carer")
    version = app.extensions["dashboard"].rules.read().version
    csrf = carer.get("/api/session").get_json()["csrf"]
    page = carer.get("/children/alex/advanced").get_data(as_text=True)
    assert 'name="allow"' in page, "the allow list is on the advanced screen"
    form = {
        "csrf": csrf,
        "version": version,
        "name": "Alex",
        "age_band": "13_15",
        "always_allow": "pornhub.com",
        "blocked_answer": "null_ip",
    }
    refused = carer.post("/children/alex/advanced", data=form)
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert 'id="reason-error"' in text and "pornhub.com" in text
    assert "always_allow" not in _rules_on_disk(app)["children"]["alex"]
    saved = carer.post("/children/alex/advanced", data={**form, "reason": "Agreed at review"})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert _rules_on_disk(app)["children"]["alex"]["always_allow"] == ["pornhub.com"]
