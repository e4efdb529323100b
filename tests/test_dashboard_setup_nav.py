"""First-run set-up (time zone, children, devices), role-aware navigation, the high-risk alert."""

from __future__ import annotations

import re
import time

import pytest

from dashboard.actions.setup import child_id
from dashboard.data import blocked_log
from dashboard.data.db import connect
from filterd.rules.parse import parse_rules
from tests.support.dashboard_app import (
    audit_trail,
    csrf_of,
    first_run_form,
    logged_in,
    make_app,
    version_of,
)
from tests.support.filterd_db import query_row, write_queries

NOW = time.time()
EMPTY_RULES = {"children": {}, "devices": []}


def audit_actions(app) -> list[tuple[str, str, str]]:
    return [(e.action, e.target, e.detail) for e in audit_trail(app)]


def test_first_run_goes_on_to_set_up_the_time_zone_children_and_devices(tmp_path):
    app = make_app(tmp_path, EMPTY_RULES)
    client = app.test_client()
    made = client.post("/setup", data=first_run_form(app))
    assert made.headers["Location"] == "/setup/home"
    home = client.get("/").get_data(as_text=True)
    assert 'id="finish-setup"' in home and 'href="/setup/home"' in home

    page = client.get("/setup/home").get_data(as_text=True)
    assert '<option value="Europe/London" selected>' in page
    assert 'href="/devices/"' in page
    response = client.post(
        "/setup/home",
        data={
            "csrf": csrf_of(client, "/setup/home"),
            "version": version_of(client, "/setup/home"),
            "timezone": "Europe/Dublin",
            "name": ["Sam", "Zoë Smith", ""],
            "age_band": ["9_12", "13_15", ""],
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == "/setup/home"

    rules = parse_rules((tmp_path / "rules.yaml").read_text())
    assert str(rules.timezone) == "Europe/Dublin"
    assert {cid: (p.name, p.age_band) for cid, p in rules.children.items()} == {
        "sam": ("Sam", "9_12"),
        "zoe-smith": ("Zoë Smith", "13_15"),
    }
    assert audit_actions(app)[-3:] == [
        ("setup.timezone", "Europe/Dublin", ""),
        ("child.add", "sam", "age 9 to 12"),
        ("child.add", "zoe-smith", "age 13 to 15"),
    ]
    again = client.get("/setup/home").get_data(as_text=True)
    assert "Zoë Smith" in again and '<option value="Europe/Dublin" selected>' in again
    assert 'id="finish-setup"' not in client.get("/").get_data(as_text=True)


def test_a_second_child_with_the_same_name_gets_its_own_id(tmp_path, dashboard_app, signed_in):
    assert child_id("Sam", set()) == "sam"
    assert child_id("Sam", {"sam", "sam-2"}) == "sam-3"
    assert child_id("  !!  ", set()) == "child"
    assert re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,31}", child_id("A" * 80, set()))

    client = signed_in("Jo", "administrator")  # the dashboard's rules already have sam
    client.post(
        "/setup/home",
        data={
            "csrf": csrf_of(client, "/setup/home"),
            "version": version_of(client, "/setup/home"),
            "timezone": "Europe/London",
            "name": ["Sam", "Sam"],
            "age_band": ["under_9", "16_17"],
        },
    )
    rules = parse_rules((tmp_path / "rules.yaml").read_text())
    assert rules.children["sam"].age_band == "9_12", "the existing Sam is kept as he was"
    assert rules.children["sam-2"].age_band == "under_9"
    assert rules.children["sam-3"].age_band == "16_17"
    assert not any(action == "setup.timezone" for action, _, _ in audit_actions(dashboard_app))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "time zone"),
        ({"timezone": "../../etc/passwd"}, "time zone"),
        ({"name": ["Kit"], "age_band": [""]}, "choose an age band for Kit"),
        ({"name": ["Kit"], "age_band": ["adult"]}, "choose an age band for Kit"),
    ],
)
def test_a_refused_set_up_changes_nothing_and_says_why(tmp_path, data, message, signed_in):
    client = signed_in("Jo", "administrator")
    before = (tmp_path / "rules.yaml").read_text()
    form = {
        "csrf": csrf_of(client, "/setup/home"),
        "version": version_of(client, "/setup/home"),
        "timezone": "Europe/London",
        **data,
    }
    response = client.post("/setup/home", data=form)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert (tmp_path / "rules.yaml").read_text() == before


def test_a_set_up_based_on_a_stale_copy_is_refused(tmp_path, signed_in):
    client = signed_in("Jo", "administrator")
    version = version_of(client, "/setup/home")
    rules_path = tmp_path / "rules.yaml"
    rules_path.write_text(rules_path.read_text() + "# edited by hand\n")
    response = client.post(
        "/setup/home",
        data={
            "csrf": csrf_of(client, "/setup/home"),
            "version": version,
            "timezone": "Europe/Paris",
            "name": ["Kit"],
            "age_band": ["9_12"],
        },
    )
    assert response.status_code == 409
    assert "changed by someone else" in response.get_data(as_text=True)
    assert "Kit" not in rules_path.read_text()


@pytest.mark.parametrize("role", ["carer", "safeguarding_lead", "viewer"])
def test_only_an_administrator_sets_up_the_home(tmp_path, role):
    app = make_app(tmp_path, EMPTY_RULES)
    client = logged_in(app, "Pat", role)
    assert client.get("/setup/home").status_code == 403
    response = client.post(
        "/setup/home",
        data={"csrf": csrf_of(client), "version": "x", "timezone": "UTC", "name": ["Kit"]},
    )
    assert response.status_code == 403
    assert "Kit" not in (tmp_path / "rules.yaml").read_text()
    assert 'id="finish-setup"' not in client.get("/").get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_log_in_before_set_up(dashboard_app):
    response = dashboard_app.test_client().get("/setup/home")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    ("role", "shown"),
    [
        (
            "administrator",
            {
                "Children",
                "Rules",
                "Devices",
                "Blocked",
                "Audit trail",
                "People",
                "Health",
                "Your account",
            },
        ),
        ("carer", {"Children", "Rules", "Devices", "Health", "Your account"}),
        (
            "safeguarding_lead",
            {"Children", "Rules", "Devices", "Blocked", "Audit trail", "Health", "Your account"},
        ),
        ("viewer", {"Children", "Rules", "Devices", "Health", "Your account"}),
    ],
)
def test_each_role_sees_only_the_links_it_may_open(role, shown, signed_in):
    client = signed_in("Pat", role)
    page = client.get("/").get_data(as_text=True)
    nav = page.split('<nav aria-label="Main">', 1)[1].split("</nav>", 1)[0]
    links = dict(re.findall(r'<a href="([^"]+)"(?: class="brand")?>([^<]+)</a>', nav))
    assert {label for label in links.values() if label != "filterd"} == shown
    for href, label in links.items():  # and every link shown opens for this role
        assert client.get(href).status_code == 200, label


def unreviewed(dashboard, days: int = 7) -> int:
    return blocked_log.unreviewed_high_risk(dashboard.filterd_db(), dashboard.db(), days=days)


row = query_row


HIGH_RISK_LOG = [
    row(NOW - 60, "harm.example", categories="self_harm"),
    row(NOW - 3600, "bets.example", categories="gambling,games"),
    row(NOW - 3 * 86400, "dating.example", categories="dating"),
    row(NOW - 8 * 86400, "old.example", categories="self_harm"),  # older than a week
    row(NOW - 60, "games.example", categories="games"),  # blocked, not high-risk
    row(NOW - 60, "news.example", reason="allowed", categories="self_harm"),  # not blocked
]


def banner(page: str) -> str:
    match = re.search(r'<div[^>]*id="high-risk-alert".*?</div>', page, re.S)
    return match[0] if match else ""


@pytest.mark.parametrize("role", ["safeguarding_lead", "administrator"])
def test_reviewers_see_how_many_high_risk_blocks_await_review(
    tmp_path, dashboard_app, signed_in, role
):
    ids = write_queries(tmp_path / "filterd.db", HIGH_RISK_LOG)
    client = signed_in("Lee", role)
    shown = banner(client.get("/").get_data(as_text=True))
    assert "3 high-risk blocked requests" in shown and "last 7 days" in shown
    assert 'href="/blocked/?range=7d&amp;risk=high&amp;review=waiting"' in shown

    db = connect(dashboard_app.extensions["dashboard"].settings.database)
    blocked_log.record_reviews(db, ids[:2], "no_concern", "", "Lee")
    db.close()
    assert "1 high-risk blocked request<" in banner(client.get("/").get_data(as_text=True))

    db = connect(dashboard_app.extensions["dashboard"].settings.database)
    blocked_log.record_reviews(db, [ids[2]], "discussed_with_child", "", "Lee")
    db.close()
    assert banner(client.get("/").get_data(as_text=True)) == ""


@pytest.mark.parametrize("role", ["carer", "viewer"])
def test_no_alert_for_roles_that_do_not_review(tmp_path, signed_in, role):
    write_queries(tmp_path / "filterd.db", HIGH_RISK_LOG)
    client = signed_in("Cam", role)
    page = client.get("/").get_data(as_text=True)
    assert banner(page) == "" and "high-risk" not in page


def test_no_alert_before_filterd_has_written_a_log(signed_in):
    client = signed_in("Lee", "safeguarding_lead")
    assert banner(client.get("/").get_data(as_text=True)) == ""


def test_the_count_leaves_out_other_blocks_and_old_ones(tmp_path, dashboard_app):
    write_queries(tmp_path / "filterd.db", HIGH_RISK_LOG)
    dashboard = dashboard_app.extensions["dashboard"]
    with dashboard_app.app_context():
        assert blocked_log.unreviewed_high_risk(dashboard.filterd_db(), dashboard.db()) == 3
        # the 8-day-old one is past the query log's 7-day retention: gone, even before pruning
        assert unreviewed(dashboard, days=30) == 3
    app = make_app(tmp_path, retention_days=30)
    dashboard = app.extensions["dashboard"]
    with app.app_context():
        assert unreviewed(dashboard, days=30) == 4


def test_first_run_with_children_already_in_the_rules_goes_to_the_home_page(dashboard_app):
    client = dashboard_app.test_client()
    made = client.post("/setup", data=first_run_form(dashboard_app))
    assert made.headers["Location"] == "/"
    assert 'id="finish-setup"' not in client.get("/").get_data(as_text=True)


def test_set_up_writes_the_same_audit_entries_as_the_devices_and_children_pages(tmp_path):
    # The same two changes made once through set-up and once through the Devices and
    # Children pages: the audit trail reads the same, apart from the time zone set-up also sets.
    trails = []
    for way in ("setup", "pages"):
        (tmp_path / way).mkdir()
        app = make_app(tmp_path / way, EMPTY_RULES)
        client = logged_in(app, "Ann", "administrator")
        if way == "setup":
            client.post(
                "/setup/home",
                data={
                    "csrf": csrf_of(client, "/setup/home"),
                    "version": version_of(client, "/setup/home"),
                    "timezone": "Europe/London",
                    "name": ["Sam"],
                    "age_band": ["9_12"],
                    "unknown_devices": "household",
                },
            )
        else:
            for path, fields in (
                ("/devices/unassigned", {"unknown_devices": "household"}),
                ("/children/", {"id": "sam", "name": "Sam", "age_band": "9_12"}),
            ):
                page = "/devices/" if path.startswith("/devices") else "/children/"
                fields |= {"csrf": csrf_of(client, page), "version": version_of(client, page)}
                assert client.post(path, data=fields).status_code == 302
        trails.append(
            [
                (e.user, e.action, e.target, e.detail)
                for e in audit_trail(app)
                if e.action in ("devices.unknown", "child.add")
            ]
        )
    assert (
        trails[0]
        == trails[1]
        == [
            ("Ann", "devices.unknown", "household", "strict"),
            ("Ann", "child.add", "sam", "age 9 to 12"),
        ]
    )
