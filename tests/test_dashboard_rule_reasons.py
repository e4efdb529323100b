"""The rules page: unblocking a high-risk category asks for a reason next to the field, and the
audit trail keeps each changed setting's before and after and the reason."""

from __future__ import annotations

from dashboard.data import audit
from tests.dashboard_support import audit_trail, csrf_of, version_of
from tests.test_dashboard_children_devices import sam_form


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
