"""Your alerts: each account sets where its alerts go and chooses them within its role."""

from __future__ import annotations

from dashboard.alerts import routing
from dashboard.data.db import connect
from tests.dashboard_support import csrf_of


def recipients(app, kind: str) -> list[str]:
    db = connect(app.extensions["dashboard"].settings.database)
    try:
        return routing.email_recipients(db, kind)
    finally:
        db.close()


def test_a_safeguarding_lead_sets_an_address_and_what_to_receive(dashboard_app, signed_in):
    client = signed_in("Dee", "safeguarding_lead")
    page = client.get("/account").get_data(as_text=True)
    assert "Your alerts" in page and "illegal-content site" in page
    assert "joined the network" not in page, "not a safeguarding lead's kind of alert"
    reply = client.post(
        "/account/alerts",
        data={
            "csrf": csrf_of(client, "/account"),
            "email": "dee@home.example",
            "kind": ["block.illegal", "block.high_risk"],
        },
    )
    assert reply.status_code == 302
    assert recipients(dashboard_app, "block.illegal") == ["dee@home.example"]
    assert recipients(dashboard_app, "bypass.attempt") == [], "not chosen"


def test_a_malformed_address_is_refused_beside_the_field(signed_in):
    client = signed_in("Dee", "safeguarding_lead")
    reply = client.post(
        "/account/alerts", data={"csrf": csrf_of(client, "/account"), "email": "dee at home"}
    )
    page = reply.get_data(as_text=True)
    assert reply.status_code == 400
    assert 'id="email-error"' in page and "name@example.org" in page
    assert 'value="dee at home"' in page, "what was typed is kept"


def test_a_carer_may_choose_new_devices_and_nothing_outside_the_role(dashboard_app, signed_in):
    client = signed_in("Cam", "carer")
    page = client.get("/account").get_data(as_text=True)
    assert "joined the network" in page and "illegal-content" not in page
    refused = client.post(
        "/account/alerts",
        data={
            "csrf": csrf_of(client, "/account"),
            "email": "cam@home.example",
            "kind": ["block.illegal"],
        },
    )
    assert refused.status_code == 400
    assert "alerts your role receives" in refused.get_data(as_text=True)
    assert recipients(dashboard_app, "block.illegal") == []


def test_a_viewer_has_no_alerts_section(signed_in):
    client = signed_in("Vi", "viewer")
    assert "Your alerts" not in client.get("/account").get_data(as_text=True)
