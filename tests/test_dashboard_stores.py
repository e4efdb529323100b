"""The dashboard on filterd.db in every state, quick actions with any override form, what each
role sees of a child's activity, reserved child ids, and one action layer for page and API."""

from __future__ import annotations

import sqlite3
import time

import pytest
import yaml

from dashboard.data import audit
from dashboard.data.db import connect
from filterd.db.devices import Sighting
from filterd.rules.parse import RulesError, parse_rules
from tests.support.dashboard_app import RULES, csrf_of, logged_in, make_app, version_of
from tests.support.filterd_db import (
    query_row,
    write_devices,
    write_queries,
    write_rules_applied,
    write_usage,
)

PAGES = [
    "/",
    "/children/",
    "/children/sam",
    "/children/sam/limits",
    "/children/sam/blocked",
    "/children/sam/advanced",
    "/children/sam/apps",
    "/devices/",
    "/blocked/",
    "/audit/",
    "/health",
    "/reports/evidence.pdf",
]


def _partial(tmp_path):
    """filterd wrote usage and status, no query log yet (the /health 500 of issue 10)."""
    write_usage(tmp_path / "filterd.db", [(time.strftime("%Y-%m-%d"), "sam", "overall", 5)])
    write_rules_applied(tmp_path / "filterd.db")
    db = sqlite3.connect(tmp_path / "filterd.db")
    db.execute("DROP TABLE queries")
    db.commit()
    db.close()


def _empty(tmp_path):
    sqlite3.connect(tmp_path / "filterd.db").close()


def _full(tmp_path):
    now = time.time()
    write_queries(
        tmp_path / "filterd.db", [query_row(now - 60, "harm.example", categories="self_harm")]
    )
    write_devices(
        tmp_path / "filterd.db",
        [Sighting("aa:bb:cc:00:00:01", "192.168.1.20", "tab", None, None, None, False, now)],
    )


@pytest.mark.parametrize(
    "state", [None, _empty, _partial, _full], ids=["none", "empty", "partial", "full"]
)
def test_every_page_renders_on_a_new_partial_or_empty_filterd_db(tmp_path, signed_in, state):
    if state is not None:
        state(tmp_path)
    client = signed_in("Ann", "administrator")
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, (path, response.data[:300])
    for path in ("/api/children", "/api/devices", "/api/blocked"):
        assert client.get(path).status_code == 200, path


def test_health_shows_the_rules_check_when_there_is_no_query_log_yet(tmp_path, signed_in):
    _partial(tmp_path)
    client = signed_in("Vi", "viewer")
    response = client.get("/health")
    assert response.status_code == 200


def _rules_with_override(until: str) -> dict:
    rules = yaml.safe_load(yaml.safe_dump(RULES))
    rules["children"]["sam"]["overrides"] = [{"kind": "extra_time", "minutes": 10, "until": until}]
    return rules


@pytest.mark.parametrize("action", ["pause", "extra", "lift_bedtime"])
def test_quick_actions_work_with_an_until_written_with_an_offset(tmp_path, action):
    past = "2020-01-01T10:00:00+01:00"  # ISO with an offset: documented and accepted by filterd
    app = make_app(tmp_path, _rules_with_override(past))
    client = logged_in(app, "Cam", "carer")
    response = client.post(
        "/children/sam/quick",
        data={
            "action": action,
            "until": "21:30",
            "version": version_of(client),
            "csrf": csrf_of(client),
        },
    )
    assert response.status_code == 302
    saved = yaml.safe_load((tmp_path / "rules.yaml").read_text())["children"]["sam"]["overrides"]
    assert past not in [o.get("until") for o in saved]  # expired: tidied away
    assert [o["kind"] for o in saved] == [{"extra": "extra_time"}.get(action, action)]
    answer = client.post(
        "/api/children/sam/actions",
        json={"action": "resume", "version": version_of(client)},
        headers={"X-CSRF-Token": csrf_of(client)},
    )
    assert answer.status_code == 200, answer.get_json()


def test_overrides_are_judged_in_the_home_time_zone_not_the_servers(tmp_path, monkeypatch):
    """An override until 10:00 home time (Tokyo) has run out at 02:00 UTC on that day (11:00
    in Tokyo); the server's own zone (UTC here) would think it had 8 hours to go."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    rules = _rules_with_override("2020-06-01 10:00")
    rules["timezone"] = "Asia/Tokyo"
    from datetime import UTC, datetime

    from dashboard.data.rules_file import add_override
    from filterd.rules.parse import override_expired

    tz = parse_rules(yaml.safe_dump(rules)).timezone
    now = datetime(2020, 6, 1, 2, 0, tzinfo=UTC).timestamp()
    override = rules["children"]["sam"]["overrides"][0]
    assert override_expired(override, tz, now)
    add_override(rules, "sam", {"kind": "pause"}, tz, now)
    assert rules["children"]["sam"]["overrides"] == [{"kind": "pause"}]


def _risky_log(tmp_path):
    now = time.time()
    write_queries(
        tmp_path / "filterd.db",
        [
            query_row(now - 120, "selfharm-forum.example", categories="self_harm"),
            query_row(now - 60, "games.example", reason="forwarded", categories="gaming"),
        ],
    )


@pytest.mark.parametrize(
    ("role", "sees"),
    [("viewer", False), ("carer", False), ("safeguarding_lead", True), ("administrator", True)],
)
def test_high_risk_blocks_in_a_childs_activity_only_for_those_who_review_them(
    tmp_path, signed_in, role, sees
):
    _risky_log(tmp_path)
    client = signed_in("Pat", role)
    page = client.get("/children/sam").get_data(as_text=True)
    assert "games.example" in page
    assert ("selfharm-forum.example" in page) is sees
    assert ("self_harm" in page.split("chart-categories-table", 1)[1].split("</table>")[0]) is sees
    (sam,) = [c for c in client.get("/api/children").get_json()["children"] if c["id"] == "sam"]
    assert sam["blocked_today"] == (1 if sees else 0)


@pytest.mark.parametrize("reserved", ["unknown_devices", "none", "household"])
def test_reserved_child_ids_are_refused_with_a_clear_message(reserved):
    text = yaml.safe_dump({"children": {reserved: {"name": "Jo", "age_band": "9_12"}}})
    with pytest.raises(RulesError) as caught:
        parse_rules(text)
    assert caught.value.problems == [
        f"children.{reserved}: {reserved!r} is reserved by filterd; choose another id"
    ]


def test_page_and_api_write_the_same_audit_entry(tmp_path, signed_in):
    now = time.time()
    ids = write_queries(
        tmp_path / "filterd.db",
        [query_row(now - 60, "a.example"), query_row(now - 30, "b.example")],
    )
    write_devices(
        tmp_path / "filterd.db",
        [Sighting("aa:bb:cc:00:00:09", "192.168.1.50", "tab", None, None, None, False, now)],
    )
    lead = signed_in("Lee", "administrator")
    token = csrf_of(lead)
    lead.post(
        "/blocked/review", data={"id": ids[0], "outcome": "no_concern", "note": "ok", "csrf": token}
    )
    lead.post(
        "/api/blocked/review",
        json={"ids": [ids[1]], "outcome": "no_concern", "note": "ok"},
        headers={"X-CSRF-Token": token},
    )
    lead.post(
        "/devices/assign",
        data={
            "mac": "aa:bb:cc:00:00:09",
            "owner": "sam",
            "version": version_of(lead),
            "csrf": token,
        },
    )
    lead.post(
        "/api/devices/aa:bb:cc:00:00:09/owner",
        json={"owner": "alex", "version": version_of(lead)},
        headers={"X-CSRF-Token": token},
    )
    db = connect(tmp_path / "dashboard.db")
    notes = [e.detail for e in audit.recent(db) if e.action == "review"]
    assert notes == ["no_concern: ok", "no_concern: ok"]  # the API keeps the note too
    entries = [  # (action, target, first word of the detail: the outcome or the owner)
        (e.action, e.target, e.detail.split(" ", 1)[0])
        for e in reversed(audit.recent(db))
        if e.action != "login"
    ]
    assert entries == [
        ("review", f"blocked requests {ids[0]}", "no_concern:"),
        ("review", f"blocked requests {ids[1]}", "no_concern:"),
        ("device.assign", "aa:bb:cc:00:00:09", "sam"),
        ("device.assign", "aa:bb:cc:00:00:09", "alex"),
    ]
