"""The rules page: unblocking a high-risk category asks for a reason next to the field, and the
audit trail keeps each changed setting's before and after and the reason."""

from __future__ import annotations

from dashboard.data import audit
from tests.support.dashboard_app import audit_trail, csrf_of, version_of
from tests.support.dashboard_forms import sam_form


def trail(app) -> list[audit.AuditEntry]:
    return [e for e in audit_trail(app) if e.action == "rules.save"]


def post(client, tmp_path, **changes):
    form = sam_form(tmp_path)
    form["block"] = [c for c in form["block"] if c != "adult"]
    form.update(changes)
    page = "/children/sam/blocked"
    form.update(csrf=csrf_of(client, page), version=version_of(client, page))
    return client.post(page, data=form)


def test_unblocking_adult_needs_a_reason_which_the_audit_trail_keeps(
    tmp_path, dashboard_app, signed_in
):
    client = signed_in("Jo", "carer")
    before = (tmp_path / "rules.yaml").read_text()
    refused = post(client, tmp_path)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert 'id="reason-error"' in page and "high-risk category" in page
    assert 'aria-invalid="true"' in page
    assert (tmp_path / "rules.yaml").read_text() == before, "nothing saved"
    assert trail(dashboard_app) == []

    saved = post(client, tmp_path, reason="Agreed at Sam's review with the social worker")
    assert saved.status_code == 302
    (entry,) = trail(dashboard_app)
    assert "Sam: adult: blocked -> allowed" in entry.detail
    assert "reason: Agreed at Sam's review with the social worker" in entry.detail


def test_a_bedtime_change_reads_as_before_and_after_and_needs_no_reason(
    tmp_path, dashboard_app, signed_in
):
    client = signed_in("Jo", "carer")
    form = sam_form(tmp_path, school_start="21:30")
    page = "/children/sam/limits"
    form.update(csrf=csrf_of(client, page), version=version_of(client, page))
    assert client.post(page, data=form).status_code == 302
    (entry,) = trail(dashboard_app)
    assert "Sam: bedtime school nights: 20:30 -> 21:30" in entry.detail


def test_a_reason_over_500_characters_is_refused_by_the_box_and_by_the_api(
    tmp_path, dashboard_app, signed_in
):
    """The page's box says 500 characters; the server holds to it whatever is sent, saying so
    by the field (and keeping what was typed) rather than storing it or cutting it short."""
    client = signed_in("Jo", "administrator")
    before = (tmp_path / "rules.yaml").read_text()
    long = "Agreed at Sam's review. " * 25 + "end"  # 603 characters
    assert len(long) == 603
    refused = post(client, tmp_path, reason=long)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert 'id="reason-error"' in page and "at most 500 characters" in page
    assert long.split()[-1] in page, "what was typed is kept in the box"
    assert (tmp_path / "rules.yaml").read_text() == before and trail(dashboard_app) == []

    rules = client.get("/api/rules").get_json()
    loosened = rules["rules"]
    loosened["children"]["sam"]["block_categories"] = ["gambling"]
    token = client.get("/api/session").get_json()["csrf"]
    body = {"version": rules["version"], "rules": loosened, "reason": long}
    answer = client.put("/api/rules", json=body, headers={"X-CSRF-Token": token})
    assert answer.status_code == 422
    assert answer.get_json()["field"] == "reason"
    assert "at most 500 characters" in answer.get_json()["error"]
    assert (tmp_path / "rules.yaml").read_text() == before and trail(dashboard_app) == []

    assert post(client, tmp_path, reason=long[:500]).status_code == 302  # the bound: saved
    (entry,) = trail(dashboard_app)
    assert f"reason: {long[:500].strip()}" in entry.detail, "kept whole"


def test_a_long_reason_is_kept_whole_in_the_audit_trail_when_a_save_changes_much(
    tmp_path, dashboard_app, signed_in
):
    """A save unblocking every category lists many changes: the audit entry keeps the whole
    reason (the point of asking for it) and counts the settings it has no room for."""
    client = signed_in("Jo", "administrator")
    reason = "Agreed at Sam's review with the social worker and Sam's parent. " * 7 + "End."
    assert len(reason) <= 500
    form = sam_form(tmp_path)
    form["block"] = []  # every category unblocked
    page = "/children/sam/blocked"
    form.update(csrf=csrf_of(client, page), version=version_of(client, page), reason=reason)
    assert client.post(page, data=form).status_code == 302
    (entry,) = trail(dashboard_app)
    assert entry.detail.endswith(f"reason: {reason.strip()}"), entry.detail[-200:]
    assert "more setting" in entry.detail and "Sam: adult: blocked -> allowed" in entry.detail
