"""Practitioners' accounts (issue 17) on the real dashboard app with real SQLite: an
administrator gives a social worker two children and a last day; the account reads those two
children's rules and device records and nothing else (every registered route walked as the
practitioner: refused unless made for it, and those limited to its children); each page it
opens is in the audit trail; after its end it cannot log in and its session is over."""

from __future__ import annotations

import re
import sqlite3
import time
from copy import deepcopy
from datetime import date, timedelta

import pytest
from werkzeug.datastructures import MultiDict

from dashboard.data.home_timezone import home_timezone
from dashboard.data.practitioners import last_day_text
from dashboard.web.security import SESSION_ENDPOINTS
from filterd.db.devices import Sighting
from tests.support.dashboard_app import (
    PASSWORD,
    audit_trail,
    csrf_of,
    logged_in,
    make_app,
)
from tests.support.dashboard_app import RULES as HOME_RULES
from tests.support.dashboard_forms import agreement_form
from tests.support.filterd_db import query_row, write_devices, write_queries

TABLET = "aa:bb:cc:17:01:01"
KIMS_PHONE = "aa:bb:cc:17:01:02"
RULES = {  # the dashboard tests' home (Sam and Alex) with Kimberley, and devices by MAC
    **deepcopy(HOME_RULES),
    "children": {
        **deepcopy(HOME_RULES["children"]),
        "kim": {"name": "Kimberley", "age_band": "16_17"},
    },
    "devices": [
        {"mac": TABLET, "name": "Sam's tablet", "owner": "sam"},
        {"mac": KIMS_PHONE, "name": "Kimberley's phone", "owner": "kim"},
    ],
}
# What a practitioner may open (besides logging in and out): its list of children, and for a
# child it was given, the child's page and their agreement (each version, and its PDF).
MADE_FOR_PRACTITIONERS = {
    "practitioner.index",
    "practitioner.child",
    "agreements.page",
    "agreements.version",
    "agreements.pdf",
}


def today() -> date:
    return date.today()


def add_practitioner(admin, **fields):
    data = MultiDict(
        [
            ("csrf", csrf_of(admin, "/people/")),
            ("name", fields.get("name", "Priya")),
            ("kind", fields.get("kind", "social_worker")),
            ("last_day", fields.get("last_day", (today() + timedelta(days=30)).isoformat())),
            ("password", fields.get("password", PASSWORD)),
            ("confirm", fields.get("confirm", PASSWORD)),
            *[("children", c) for c in fields.get("children", ["sam", "alex"])],
        ]
    )
    return admin.post("/people/practitioners/add", data=data)


@pytest.fixture
def home(tmp_path):
    """A home with three children, Sam's tablet's record filled in, a blocked request each for
    Sam and Kimberley, and a social worker given Sam and Alex."""
    app = make_app(tmp_path, RULES)
    now = time.time()
    write_devices(
        tmp_path / "filterd.db",
        [
            Sighting(TABLET, "192.168.1.20", "sams-tab", None, None, None, False, now - 60),
            Sighting(KIMS_PHONE, "192.168.1.21", "kims-phone", None, None, None, False, now - 60),
        ],
    )
    write_queries(
        tmp_path / "filterd.db",
        [
            query_row(now - 120, "sams-secret-site.example", categories="adult"),
            query_row(now - 90, "kims-secret-site.example", categories="dating", child="kim"),
        ],
    )
    admin = logged_in(app, "Ann", "administrator")
    record = MultiDict(
        [
            ("csrf", csrf_of(admin, f"/devices/{TABLET}/record")),
            ("bought_by", "the local authority"),
            ("account_holder", "Ann (carer)"),
            ("handed_over", (today() - timedelta(days=3)).isoformat()),
            ("reset", "yes"),
            ("check", "location_off"),
        ]
    )
    assert admin.post(f"/devices/{TABLET}/record", data=record).status_code == 302
    for child, name in (("sam", "Sam"), ("kim", "Kimberley")):
        form = agreement_form(csrf_of(admin, f"/children/{child}/agreement"), child_name=name)
        form["agrees"] = f"{name} agrees to keep devices downstairs at night"
        assert admin.post(f"/children/{child}/agreement", data=form).status_code == 302
    assert add_practitioner(admin).status_code == 302
    practitioner = app.test_client()
    signed = practitioner.post("/login", data={"name": "Priya", "password": PASSWORD})
    assert signed.status_code == 302
    return app, admin, practitioner, tmp_path


def test_a_practitioner_sees_the_two_children_it_was_given_and_their_records(home):
    app, _, priya, _ = home
    landing = priya.get("/", follow_redirects=True)
    assert landing.request.path == "/practitioner/"
    page = landing.get_data(as_text=True)
    assert "Sam" in page and "Alex" in page and "Kimberley" not in page
    assert "Social worker" in page and "every page you open is recorded" in page.lower()
    assert (today() + timedelta(days=30)).strftime("%B %Y") in page  # its last day, in words
    assert "Health" not in page and "Your account" not in page and ">Devices<" not in page

    sam = priya.get("/practitioner/children/sam").get_data(as_text=True)
    assert "<li>Daily limit: 3h</li>" in sam  # the rules in force, in plain words
    assert "Sam&#39;s tablet" in sam and "the local authority" in sam
    assert "Location sharing off: done (ticked by Ann" in sam
    assert "Kimberley" not in sam and "secret-site" not in sam
    assert priya.get("/practitioner/children/alex").status_code == 200
    assert "/children/sam/agreement" in sam  # their agreement, read-only
    agreement = priya.get("/children/sam/agreement").get_data(as_text=True)
    assert "Sam agrees to keep devices downstairs at night" in agreement
    assert "Mark signed" not in agreement and 'name="csrf"' not in agreement.split("<main")[1]
    assert priya.get("/children/sam/agreement/1.pdf").mimetype == "application/pdf"
    assert priya.get("/children/kim/agreement").status_code == 403
    assert priya.get("/children/kim/agreement/1.pdf").status_code == 403

    for other in ("kim", "nobody", "sam%2F..%2Fkim"):
        refused = priya.get(f"/practitioner/children/{other}")
        assert refused.status_code == 403, other
        assert "Kimberley" not in refused.get_data(as_text=True)

    views = [(e.user, e.action, e.target) for e in audit_trail(app) if e.user == "Priya"]
    assert ("Priya", "practitioner.view", "sam") in views
    assert ("Priya", "practitioner.view", "alex") in views
    assert ("Priya", "refused", "GET /practitioner/children/kim") in views
    entry = next(e for e in audit_trail(app) if e.action == "practitioner.view" and e.target)
    assert entry.detail == "/practitioner/children/sam" and entry.ts > time.time() - 60


def test_every_other_page_and_the_api_refuse_a_practitioner(home):
    _, _, priya, _ = home
    for path in (
        "/children/",
        "/children/sam",  # the carers' page: activity charts, today's apps
        "/children/kim",
        "/devices/",
        f"/devices/{TABLET}/record",
        "/blocked/",
        "/blocked/export.csv",
        "/audit/",
        "/health",
        "/people/",
        "/account",
        "/api/session",
        "/api/children",
        "/api/blocked",
        "/api/rules",
    ):
        answer = priya.get(path)
        assert answer.status_code in (403, 404), (path, answer.status_code)
        text = answer.get_data(as_text=True)
        assert "secret-site" not in text and "Kimberley" not in text, path
    assert priya.get("/api/children").is_json  # an API refusal is JSON, as for everyone


def _sample_url(rule, child: str) -> str:
    values = {}
    for argument in rule.arguments:
        converter = rule._converters[argument].__class__.__name__
        if converter == "IntegerConverter":
            values[argument] = 1
        elif converter == "AnyConverter":  # one of a fixed few (a child's rules screens)
            values[argument] = sorted(rule._converters[argument].items)[0]
        elif argument == "child":
            values[argument] = child
        elif argument == "mac":
            values[argument] = TABLET
        elif argument == "filename":
            values[argument] = "style.css"
        else:
            values[argument] = "x"
    return rule.build(values, append_unknown=False)[1]


@pytest.mark.parametrize("child", ["sam", "kim"])
def test_every_registered_route_refuses_a_practitioner_unless_made_for_it(home, child):
    """A walk over every route Flask has, every method: a route added later without being
    opened to practitioners is refused by default, so it cannot show them anything."""
    app, _, priya, tmp_path = home
    csrf = re.search(
        r'name="csrf" value="([^"]+)"', priya.get("/practitioner/").get_data(as_text=True)
    )[1]
    rules_before = (tmp_path / "rules.yaml").read_text()
    opened = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SESSION_ENDPOINTS:
            continue  # logging in and out: the session itself (logout is checked below)
        url = _sample_url(rule, child)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            answer = priya.open(
                url, method=method, data={"csrf": csrf}, headers={"X-CSRF-Token": csrf}
            )
            text = answer.get_data().decode(errors="replace")  # a PDF too
            assert "secret-site" not in text, (method, url)
            if rule.endpoint == "home.index":
                assert answer.status_code == 302 and answer.location.endswith("/practitioner/")
            elif answer.status_code != 403:
                opened.add((rule.endpoint, method))
                assert method == "GET", (rule.endpoint, method, answer.status_code)
                assert answer.status_code == 200, (rule.endpoint, answer.status_code)
                assert "Kimberley" not in text, (method, url)
    expected = {(e, "GET") for e in MADE_FOR_PRACTITIONERS}
    if child == "kim":  # a child it was not given: only its list of children opens
        expected = {("practitioner.index", "GET")}
    assert opened == expected
    assert (tmp_path / "rules.yaml").read_text() == rules_before  # it changed nothing
    with sqlite3.connect(tmp_path / "dashboard.db") as db:
        assert db.execute("SELECT count(*) FROM users").fetchone() == (2,)
    # Still signed in after the walk, then logging out ends it.
    assert priya.get("/practitioner/").status_code == 200
    assert priya.post("/logout", data={"csrf": csrf}).status_code == 302
    assert priya.get("/practitioner/").status_code == 302


def test_after_its_last_day_it_cannot_log_in_and_its_session_is_over(home):
    app, admin, priya, tmp_path = home
    assert priya.get("/practitioner/children/sam").status_code == 200
    assert "Priya" in admin.get("/people/").get_data(as_text=True).split("Who is logged in")[1]
    # Its last day comes to an end: the stored end moves into the past, as midnight does.
    ended = time.time() - 1
    with sqlite3.connect(tmp_path / "dashboard.db") as db:
        db.execute("UPDATE practitioners SET ends = ?", (ended,))
    answer = priya.get("/practitioner/children/sam")
    assert answer.status_code == 302 and "/login" in answer.location
    with sqlite3.connect(tmp_path / "dashboard.db") as db:
        left = db.execute(
            "SELECT count(*) FROM sessions WHERE user_id ="
            " (SELECT id FROM users WHERE name = 'Priya')"
        ).fetchone()
    assert left == (0,)  # the session is gone, not merely refused
    again = app.test_client().post("/login", data={"name": "Priya", "password": PASSWORD})
    # The right password is told why, in words (found by the outside check: it said the name
    # and password did not match); the wrong one is told nothing more.
    told = again.get_data(as_text=True)
    assert again.status_code == 403 and "do not match an account" not in told
    dashboard = app.extensions["dashboard"]
    last_day = last_day_text(ended, home_timezone(dashboard.rules.read()))
    assert f"Your access ended after {last_day}; ask the home&#39;s administrator." in told
    wrong = app.test_client().post("/login", data={"name": "Priya", "password": "not it at all"})
    said = wrong.get_data(as_text=True)
    assert "do not match an account" in said and "access ended" not in said
    failed = [e for e in audit_trail(app) if e.action == "login.failed" and e.user == "Priya"]
    assert [e.detail for e in failed] == [f"access ended after {last_day}", ""]
    people = admin.get("/people/").get_data(as_text=True)
    assert "Priya" not in people.split("Who is logged in")[1]
    assert "Ended on" in people and "cannot log in" in people


def test_an_account_given_today_as_its_last_day_works_until_midnight(tmp_path):
    app = make_app(tmp_path, RULES)
    admin = logged_in(app, "Ann", "administrator")
    assert add_practitioner(admin, last_day=today().isoformat()).status_code == 302
    with sqlite3.connect(tmp_path / "dashboard.db") as db:
        (ends,) = db.execute("SELECT ends FROM practitioners").fetchone()
    assert time.time() < ends <= time.time() + 86_400 + 3600
    client = app.test_client()
    assert client.post("/login", data={"name": "Priya", "password": PASSWORD}).status_code == 302


@pytest.mark.parametrize(
    "fields, field, words",
    [
        ({"last_day": ""}, "last-day", "Give the last day they may look"),
        ({"last_day": "2020-01-01"}, "last-day", "That day has passed"),
        ({"last_day": "far"}, "last-day", "Give the last day they may look"),
        ({"children": []}, "children", "Tick at least one child"),
        ({"children": ["sam", "nobody"]}, "children", "Tick only children in this home"),
        ({"kind": "friend"}, "kind", "Choose who they are"),
        ({"confirm": "something else"}, "confirm", "The two passwords are not the same."),
        ({"password": "password", "confirm": "password"}, "password", ""),
        ({"name": ""}, "name", "A name is 1 to 64"),
        # found by the outside check: markup was accepted in a practitioner's name
        ({"name": "<img src=x onerror=alert(1)>"}, "name", "Their name: a name is plain words"),
    ],
)
def test_a_practitioner_is_added_only_with_children_and_a_near_last_day(
    tmp_path, fields, field, words
):
    app = make_app(tmp_path, RULES)
    admin = logged_in(app, "Ann", "administrator")
    refused = add_practitioner(admin, **fields)
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert f'id="p-{field}-error">{words}' in page
    with sqlite3.connect(tmp_path / "dashboard.db") as db:
        assert db.execute("SELECT count(*) FROM users WHERE role = 'practitioner'").fetchone() == (
            0,
        )


def test_the_last_day_is_at_most_90_days_away(tmp_path):
    app = make_app(tmp_path, RULES)
    admin = logged_in(app, "Ann", "administrator")
    too_far = add_practitioner(admin, last_day=(today() + timedelta(days=91)).isoformat())
    assert too_far.status_code == 400
    page = too_far.get_data(as_text=True)
    assert "At most 90 days from today" in page
    latest = today() + timedelta(days=90)
    assert f"the latest is {latest:%A} {latest.day} {latest:%B %Y}" in page  # a day in words
    assert "<title>People · filterd</title>" in page  # the form is in the page, not its title
    furthest = add_practitioner(admin, last_day=(today() + timedelta(days=90)).isoformat())
    assert furthest.status_code == 302
    entry = [e for e in audit_trail(app) if e.action == "user.add"][-1]
    assert entry.user == "Ann" and entry.target == "Priya"
    assert "practitioner (social worker) for alex, sam until the end of" in entry.detail


def test_only_an_administrator_adds_one_and_it_never_changes_role(tmp_path):
    app = make_app(tmp_path, RULES)
    carer = logged_in(app, "Cam", "carer")
    refused = carer.post(
        "/people/practitioners/add",
        data={"csrf": csrf_of(carer, "/children/"), "name": "Priya", "children": "sam"},
    )
    assert refused.status_code == 403
    admin = logged_in(app, "Ann", "administrator")
    plain = admin.post(
        "/people/add",
        data={
            "csrf": csrf_of(admin, "/people/"),
            "name": "Priya",
            "role": "practitioner",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert plain.status_code == 400 and "Choose a role." in plain.get_data(as_text=True)
    assert add_practitioner(admin).status_code == 302
    with sqlite3.connect(tmp_path / "dashboard.db") as db:
        (user_id,) = db.execute("SELECT id FROM users WHERE name = 'Priya'").fetchone()
    changed = admin.post(
        f"/people/{user_id}",
        data={"csrf": csrf_of(admin, "/people/"), "action": "role", "role": "carer"},
        follow_redirects=True,
    )
    assert "keeps its role" in changed.get_data(as_text=True)
    with sqlite3.connect(tmp_path / "dashboard.db") as db:
        assert db.execute("SELECT role FROM users WHERE id = ?", (user_id,)).fetchone() == (
            "practitioner",
        )


def test_staff_see_every_child_on_the_practitioners_pages(tmp_path):
    app = make_app(tmp_path, RULES)
    viewer = logged_in(app, "Val", "viewer")
    page = viewer.get("/practitioner/").get_data(as_text=True)
    assert "Sam" in page and "Kimberley" in page
    assert viewer.get("/practitioner/children/kim").status_code == 200
    # Staff opening them are not "practitioner views" in the audit trail.
    assert not [e for e in audit_trail(app) if e.action == "practitioner.view"]


def test_a_page_added_later_without_opening_it_to_practitioners_refuses_them(tmp_path):
    """The default is no: a new page that checks only that someone is signed in (or checks
    nothing at all) still refuses a practitioner."""
    app = make_app(tmp_path, RULES)

    @app.route("/new-page")
    def new_page():
        return "Kimberley's activity"

    admin = logged_in(app, "Ann", "administrator")
    assert admin.get("/new-page").status_code == 200
    assert add_practitioner(admin).status_code == 302
    priya = app.test_client()
    assert priya.post("/login", data={"name": "Priya", "password": PASSWORD}).status_code == 302
    refused = priya.get("/new-page")
    assert refused.status_code == 403 and "Kimberley" not in refused.get_data(as_text=True)


def test_one_save_that_changed_two_children_shows_each_only_its_own_changes(home):
    """A whole-file save changed Sam's and Kimberley's limits at once: Sam's new draft lists
    the change behind it, and a practitioner given Sam reads nothing of Kimberley's."""
    app, admin, priya, _ = home
    rules = admin.get("/api/rules").get_json()
    rules["rules"]["children"]["sam"]["limits"] = {"overall": "2h"}
    rules["rules"]["children"]["kim"]["limits"] = {"overall": "4h"}
    csrf = admin.get("/api/session").get_json()["csrf"]
    saved = admin.put(
        "/api/rules",
        json={"rules": rules["rules"], "version": rules["version"]},
        headers={"X-CSRF-Token": csrf},
    )
    assert saved.status_code == 200, saved.get_json()
    whole = [e for e in audit_trail(app) if e.action == "rules.save"][-1]
    assert "Sam: daily limit: 3h -> 2h" in whole.detail and "Kimberley" in whole.detail
    page = priya.get("/children/sam/agreement").get_data(as_text=True)
    assert "Sam: daily limit: 3h -&gt; 2h" in page  # the change behind the new draft
    assert "Kimberley" not in page and "4h" not in page


def test_a_child_who_left_is_never_shown_again_even_to_a_new_child_of_the_same_name(home):
    """Sam leaves the home; a new child called Sam later gets a new id. The social worker
    given the first Sam sees neither."""
    app, admin, priya, _ = home
    rules = admin.get("/api/rules").get_json()
    csrf = admin.get("/api/session").get_json()["csrf"]
    left = admin.delete(
        "/api/children/sam",
        json={
            "confirm": "Sam",
            "devices": "unassign",
            "reason": "moved on",
            "version": rules["version"],
        },
        headers={"X-CSRF-Token": csrf},
    )
    assert left.status_code == 200, left.get_json()
    removal = [e for e in audit_trail(app) if e.action == "child.remove"][-1]
    assert "no longer shown to practitioner Priya" in removal.detail
    version = admin.get("/api/rules").get_json()["version"]
    csrf = csrf_of(admin, "/children/")
    added = admin.post(
        "/children/",
        data={"csrf": csrf, "name": "Sam", "age_band": "under_9", "version": version},
    )
    assert added.status_code == 302, added.get_data(as_text=True)
    children = admin.get("/api/rules").get_json()["rules"]["children"]
    assert "sam" not in children and children["sam-2"]["name"] == "Sam"  # ids are never reused
    assert priya.get("/practitioner/children/sam").status_code == 403
    assert priya.get("/practitioner/children/sam-2").status_code == 403
    listing = priya.get("/practitioner/").get_data(as_text=True)
    assert "Alex" in listing and ">Sam<" not in listing
