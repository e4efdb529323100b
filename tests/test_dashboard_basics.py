"""The dashboard's foundations with Flask's test client: first run, log in, roles, quick actions."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

import yaml

from tests.support.dashboard_app import (
    PASSWORD,
    RULES,
    csrf_of,
    first_run_form,
    logged_in,
    make_app,
    version_of,
)


def test_first_run_creates_the_administrator_and_there_is_no_default_account(dashboard_app):
    client = dashboard_app.test_client()
    assert client.get("/").headers["Location"].startswith("/login")
    assert client.get("/login").headers["Location"] == "/setup"
    short = client.post("/setup", data=first_run_form(dashboard_app, password="short"))
    assert "at least 10 characters" in short.get_data(as_text=True)
    made = client.post("/setup", data=first_run_form(dashboard_app))
    assert made.status_code == 302
    assert "Sam" in client.get("/").get_data(as_text=True)
    assert client.get("/setup").status_code == 302, "setup is gone once an account exists"


def test_wrong_password_is_refused_and_repeated_failures_slow_that_source(dashboard_app, signed_in):
    signed_in("Jo", "administrator")
    client = dashboard_app.test_client()
    for _ in range(5):
        page = client.post("/login", data={"name": "Jo", "password": "wrong password!"})
        assert page.status_code == 200 and "do not match" in page.get_data(as_text=True)
    locked = client.post("/login", data={"name": "Jo", "password": PASSWORD})
    assert locked.status_code == 429, "the right password is refused from this source for now"
    assert "Too many wrong tries from this device" in locked.get_data(as_text=True)


def test_logout_revokes_the_session_on_the_server(dashboard_app, signed_in):
    client = signed_in("Jo", "carer")
    cookie = client.get_cookie("__Host-filterd_session").value
    client.post("/logout", data={"csrf": csrf_of(client)})
    other = dashboard_app.test_client()
    other.set_cookie("__Host-filterd_session", cookie)
    assert other.get("/").status_code == 302, "the old cookie no longer opens a session"


def test_a_carer_pauses_a_child_and_the_rules_file_says_so(tmp_path, signed_in):
    client = signed_in("Jo", "carer")
    response = client.post(
        "/children/sam/quick",
        data={"action": "pause", "csrf": csrf_of(client), "version": version_of(client)},
    )
    assert response.status_code == 302
    rules = yaml.safe_load((tmp_path / "rules.yaml").read_text())
    [pause] = rules["children"]["sam"]["overrides"]
    assert pause["kind"] == "pause" and "until" not in pause  # until resumed
    assert pause["note"].startswith("since ")  # the card says since when
    assert "Paused" in client.get("/").get_data(as_text=True)


def test_a_stale_edit_is_refused_instead_of_overwriting_another_change(tmp_path, signed_in):
    client = signed_in("Jo", "carer")
    version = version_of(client)
    rules_path = tmp_path / "rules.yaml"
    rules_path.write_text(rules_path.read_text() + "# edited by hand\n")
    response = client.post(
        "/children/sam/quick",
        data={"action": "extra", "csrf": csrf_of(client), "version": version},
        follow_redirects=True,
    )
    assert "changed by someone else" in response.get_data(as_text=True)
    assert "extra_time" not in rules_path.read_text()


def test_a_viewer_cannot_change_anything(tmp_path, signed_in):
    client = signed_in("Val", "viewer")
    page = client.get("/").get_data(as_text=True)
    assert "Pause" not in page
    response = client.post(
        "/children/sam/quick",
        data={"action": "pause", "csrf": csrf_of(client), "version": "x"},
    )
    assert response.status_code == 403
    assert "overrides" not in (tmp_path / "rules.yaml").read_text()


def test_a_form_without_the_csrf_token_is_refused(signed_in):
    client = signed_in("Jo", "carer")
    response = client.post("/children/sam/quick", data={"action": "pause", "version": "x"})
    assert response.status_code == 403


def test_an_unknown_host_name_is_refused(dashboard_app):
    assert (
        dashboard_app.test_client().get("/login", headers={"Host": "evil.example"}).status_code
        == 400
    )


def test_pages_carry_security_headers(dashboard_app):
    response = dashboard_app.test_client().get("/login")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_after_login_only_paths_on_this_site_are_followed(dashboard_app):
    from tests.support.dashboard_app import add_account

    add_account(dashboard_app, "Jo", "carer")
    for target, expected in (
        ("/health", "/health"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
    ):
        client = dashboard_app.test_client()
        response = client.post("/login?next=" + target, data={"name": "Jo", "password": PASSWORD})
        assert response.headers["Location"] == expected, target


def test_first_run_and_login_forms_posted_by_another_site_are_refused(dashboard_app):
    client = dashboard_app.test_client()
    form = first_run_form(dashboard_app, name="evil")
    for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        assert client.post("/setup", data=form, headers=headers).status_code == 403
    made = client.post("/setup", data=form, headers={"Origin": "http://localhost"})
    assert made.status_code == 302, "the dashboard's own page may post it"
    refused = dashboard_app.test_client().post(
        "/login",
        data={"name": "evil", "password": PASSWORD},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert refused.status_code == 403


def test_odd_redirect_targets_and_times_get_a_clear_answer_not_an_error(dashboard_app, signed_in):
    from tests.support.dashboard_app import add_account, csrf_of, version_of

    add_account(dashboard_app, "Jo", "carer")
    for target in ("/%09/evil.example", "/%0D/x"):
        response = dashboard_app.test_client().post(
            "/login?next=" + target, data={"name": "Jo", "password": PASSWORD}
        )
        assert response.headers["Location"] == "/", target
    client = signed_in("Cy", "carer")
    response = client.post(
        "/children/sam/quick",
        data={
            "action": "lift_bedtime",
            "until": "99999999999999999999:1",
            "csrf": csrf_of(client),
            "version": version_of(client),
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "like 21:30" in response.get_data(as_text=True)


def test_the_host_check_reads_ipv6_and_ports(dashboard_app):
    dashboard_app.config["ALLOWED_HOSTS"].add("::1")
    client = dashboard_app.test_client()
    assert client.get("/login", headers={"Host": "[::1]"}).status_code != 400
    assert client.get("/login", headers={"Host": "[::1]:8080"}).status_code != 400
    assert client.get("/login", headers={"Host": "LOCALHOST:8080"}).status_code != 400


def test_a_save_keeps_who_may_read_the_rules_file(tmp_path, signed_in):
    import os
    import stat

    rules_path = tmp_path / "rules.yaml"
    os.chmod(rules_path, 0o640)
    client = signed_in("Jo", "carer")
    client.post(
        "/children/sam/quick",
        data={"action": "pause", "csrf": csrf_of(client), "version": version_of(client)},
    )
    assert "pause" in rules_path.read_text()
    assert stat.S_IMODE(os.stat(rules_path).st_mode) == 0o640


def test_session_times_on_your_account_are_in_the_homes_time_zone(tmp_path):
    # A home in Tokyo saw its log-in times in London time: the page used filterd's default
    # zone instead of the rules' `timezone`.
    app = make_app(tmp_path, {**RULES, "timezone": "Asia/Tokyo"})
    before = time.time()
    client = logged_in(app, "Jo", "carer")
    page = client.get("/account").get_data(as_text=True)
    shown = {
        f"logged in today at {datetime.fromtimestamp(moment, ZoneInfo('Asia/Tokyo')):%H:%M}"
        for moment in (before, time.time())
    }
    assert any(text in page for text in shown), page
