"""The JSON API with Flask's test client: same roles, CSRF in a header, stale and bad edits."""

from __future__ import annotations

import re

import yaml

from tests.support.filterd_db import query_row, write_query_log


def csrf(client) -> str:
    return client.get("/api/session").get_json()["csrf"]


def test_the_openapi_description_lists_every_route(dashboard_app):
    spec = dashboard_app.test_client().get("/api/openapi.json").get_json()
    routes = {
        re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(rule))
        for rule in dashboard_app.url_map.iter_rules()
        if str(rule).startswith("/api/") and rule.endpoint != "api.openapi"
    }
    assert routes == set(spec["paths"])


def test_without_a_session_the_api_answers_401(dashboard_app):
    assert dashboard_app.test_client().get("/api/children").status_code == 401


def test_children_show_todays_state(signed_in):
    client = signed_in("Val", "viewer")
    body = client.get("/api/children").get_json()
    children = {c["id"]: c for c in body["children"]}
    assert set(children) == {"sam", "alex"}
    assert children["sam"]["limits"] == {"overall": 180}
    assert children["sam"]["paused"] is False


def test_a_carer_pauses_through_the_api_with_the_csrf_header(tmp_path, signed_in):
    client = signed_in("Jo", "carer")
    version = client.get("/api/children").get_json()["version"]
    refused = client.post("/api/children/sam/actions", json={"action": "pause", "version": version})
    assert refused.status_code == 403, "no CSRF header"
    done = client.post(
        "/api/children/sam/actions",
        json={"action": "pause", "version": version},
        headers={"X-CSRF-Token": csrf(client)},
    )
    assert done.status_code == 200
    rules = yaml.safe_load((tmp_path / "rules.yaml").read_text())
    assert [o["kind"] for o in rules["children"]["sam"]["overrides"]] == ["pause"]
    assert done.get_json()["message"] == "Sam is paused until you resume."
    stale = client.post(
        "/api/children/sam/actions",
        json={"action": "resume", "version": version},
        headers={"X-CSRF-Token": csrf(client)},
    )
    assert stale.status_code == 409


def test_rules_that_filterd_would_refuse_get_422_with_the_key(signed_in):
    client = signed_in("Jo", "administrator")
    current = client.get("/api/rules").get_json()
    current["rules"]["children"]["sam"]["offline"] = [{"start": "9pm", "end": "07:00"}]
    response = client.put(
        "/api/rules",
        json={"version": current["version"], "rules": current["rules"]},
        headers={"X-CSRF-Token": csrf(client)},
    )
    assert response.status_code == 422
    assert response.get_json()["problems"] == [
        "children.sam.offline[0].start: expected HH:MM, got '9pm'"
    ]


def test_a_viewer_cannot_change_rules_through_the_api(signed_in):
    client = signed_in("Val", "viewer")
    current = client.get("/api/rules").get_json()
    response = client.put("/api/rules", json=current, headers={"X-CSRF-Token": csrf(client)})
    assert response.status_code == 403


def test_the_audit_trail_is_for_safeguarding_leads_and_administrators(signed_in):
    assert signed_in("Cara", "carer").get("/api/audit").status_code == 403
    lead = signed_in("Dee", "safeguarding_lead")
    actions = [e["action"] for e in lead.get("/api/audit").get_json()["entries"]]
    assert "login" in actions


def test_the_review_queue_and_a_review_through_the_api(tmp_path, signed_in):
    import time

    now = time.time()
    ids = write_query_log(
        tmp_path,
        [
            query_row(now - 60, "games.example"),
            query_row(now - 30, "harm.example", categories="self_harm"),
        ],
    )
    assert signed_in("Cara", "carer").get("/api/blocked").status_code == 403
    lead = signed_in("Dee", "safeguarding_lead")
    entries = lead.get("/api/blocked").get_json()["entries"]
    assert [e["name"] for e in entries] == ["harm.example", "games.example"], "high risk first"
    done = lead.post(
        "/api/blocked/review",
        json={"ids": [ids[1]], "outcome": "raised_with_dsl", "note": "spoke to the DSL"},
        headers={"X-CSRF-Token": csrf(lead)},
    )
    assert done.get_json() == {"ok": True, "reviewed": [ids[1]]}
    first = lead.get("/api/blocked").get_json()["entries"][0]
    assert first["review"]["outcome"] == "raised_with_dsl"
    assert first["review"]["reviewer"] == "Dee"


def test_a_carer_assigns_a_device_through_the_api(tmp_path, signed_in):
    import time

    from filterd.db.devices import Sighting
    from tests.support.filterd_db import write_devices

    seen = time.time() - 60
    write_devices(
        tmp_path / "filterd.db",
        [
            Sighting(
                "3c:22:fb:00:00:09", "192.168.1.44", "alexs-phone", None, None, None, False, seen
            )
        ],
    )
    client = signed_in("Jo", "carer")
    listed = client.get("/api/devices").get_json()
    # the phone filterd saw, then Sam's tablet (listed by address, not seen yet)
    assert [d["label"] for d in listed["devices"]] == ["alexs-phone", "Sam's tablet"]
    response = client.post(
        "/api/devices/3c:22:fb:00:00:09/owner",
        json={"owner": "alex", "version": listed["version"]},
        headers={"X-CSRF-Token": csrf(client)},
    )
    assert response.status_code == 200
    rules = yaml.safe_load((tmp_path / "rules.yaml").read_text())
    assert {"mac": "3c:22:fb:00:00:09", "owner": "alex"}.items() <= rules["devices"][-1].items()


def test_the_blocked_api_refuses_a_filter_it_does_not_know_instead_of_guessing(tmp_path, signed_in):
    import time

    write_query_log(tmp_path, [query_row(time.time() - 60, "games.example")])
    lead = signed_in("Dee", "safeguarding_lead")
    for query, key in (
        ("range=%00", "range"),
        ("range=forever", "range"),
        ("category=nope", "category"),
        ("risk=low", "risk"),
        ("review=done", "review"),
    ):
        refused = lead.get(f"/api/blocked?{query}")
        assert refused.status_code == 400, query
        assert refused.get_json()["error"].startswith(f"{key}:"), refused.get_json()
    assert lead.get("/api/blocked?range=7d&category=gaming&risk=high").status_code == 200
    page = lead.get("/blocked/?range=forever")  # a page link from an older release still opens
    assert page.status_code == 200
