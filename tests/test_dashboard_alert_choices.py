"""Your alerts: each account sets where its alerts go and chooses them within its role."""

from __future__ import annotations

from dashboard.alerts import routing
from dashboard.data.db import connect
from tests.support.dashboard_app import csrf_of


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


def test_a_refused_choice_changes_nothing_not_even_the_address(dashboard_app, signed_in):
    """A viewer (no alerts form) posting an address and an illegal-content alert: refused,
    and the address is not stored either; a carer's refused kind leaves the old address."""
    viewer = signed_in("Vi", "viewer")
    refused = viewer.post(
        "/account/alerts",
        data={"csrf": csrf_of(viewer, "/account"), "email": "x@y.test", "kind": "block.illegal"},
    )
    assert refused.status_code == 400
    carer = signed_in("Cam", "carer")
    csrf = csrf_of(carer, "/account")
    saved = carer.post("/account/alerts", data={"csrf": csrf, "email": "cam@home.example"})
    assert saved.status_code == 302
    refused = carer.post(
        "/account/alerts",
        data={"csrf": csrf, "email": "new@home.example", "kind": ["block.illegal"]},
    )
    assert refused.status_code == 400
    assert 'id="kind-error"' in refused.get_data(as_text=True), "said beside the choices"
    db = connect(dashboard_app.extensions["dashboard"].settings.database)
    try:
        emails = dict(db.execute("SELECT name, email FROM users").fetchall())
        actions = [row[0] for row in db.execute("SELECT action FROM audit")]
    finally:
        db.close()
    assert emails["Vi"] == "" and emails["Cam"] == "cam@home.example"
    assert actions.count("alerts.choose") == 1, "only the carer's accepted save"
