"""A dashboard app on real files (rules file, filterd.db, dashboard.db) for Flask test clients,
and the account, form-token and audit helpers every dashboard test shares: kept here once so a
change to sign-in or to the settings reaches every test (tests/conftest.py wraps the default app
and a signed-in client as the `dashboard_app` and `signed_in` fixtures)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from dashboard.app import create_app
from dashboard.data import accounts, audit, setup_code
from dashboard.data.db import connect
from dashboard.settings import check_dashboard_section
from filterd.config import load_config, parse_config
from filterd.rules.guards import with_end_line
from tests.support.dashboard_home import PASSWORD  # every test account's password

RULES = {
    "timezone": "Europe/London",
    "unknown_devices": "household",
    "children": {
        "sam": {"name": "Sam", "age_band": "9_12", "limits": {"overall": "3h"}},
        "alex": {"name": "Alex", "age_band": "13_15"},
    },
    "devices": [{"ip": "192.168.1.20", "name": "Sam's tablet", "owner": "sam"}],
}


def make_app(
    tmp_path: Path, rules: dict | None = None, retention_days: int = 7, extra: dict | None = None
):
    """The dashboard on files in tmp_path; filterd's query log kept `retention_days`; `extra`:
    more settings for filterd.yaml (lists_update, for one)."""
    rules_path = tmp_path / "rules.yaml"
    rules_path.write_text(with_end_line(yaml.safe_dump(rules or RULES)))
    config = parse_config(
        yaml.safe_dump(
            {
                "listen": ["127.0.0.1:1053"],
                "upstreams": ["127.0.0.1:1"],
                "database": str(tmp_path / "filterd.db"),
                "rules": str(rules_path),
                "dashboard": {"database": str(tmp_path / "dashboard.db")},
                "query_log": {"retention_days": retention_days},
                **(extra or {}),
            }
        )
    )
    app = create_app(config)
    app.testing = True
    return app


def app_on_settings_file(config_path: Path):
    """The dashboard on an installed home's settings file, loaded as `filterd dashboard
    --config FILE` loads it (tests of install, backup and restore)."""
    app = create_app(load_config(config_path, check_dashboard_section))
    app.testing = True
    return app


def setup_code_of(app) -> str:
    """The one-time set-up code the app made on start (what `filterd setup-code` prints)."""
    return setup_code.read(app.extensions["dashboard"].settings.database)


def first_run_form(app, name: str = "Jo", password: str = PASSWORD) -> dict[str, str]:
    return {"code": setup_code_of(app), "name": name, "password": password, "confirm": password}


def add_account(app, name: str, role: str) -> None:
    db = connect(app.extensions["dashboard"].settings.database)
    accounts.add_user(db, name, accounts.Role(role), PASSWORD)
    db.close()


def audit_trail(app) -> list[audit.AuditEntry]:
    """The dashboard's audit trail as its own reader returns it, oldest first."""
    db = connect(app.extensions["dashboard"].settings.database)
    try:
        return audit.recent(db)[::-1]
    finally:
        db.close()


def audit_trail_in(dashboard_db: Path) -> list[tuple[str, str, str]]:
    """(user, action, target) of each audit entry in a dashboard.db file, oldest first: the
    trail a backup carries and a restore keeps, read with no app running."""
    db = connect(dashboard_db)
    try:
        return [(e.user, e.action, e.target) for e in audit.recent(db)[::-1]]
    finally:
        db.close()


def logged_in(app, name: str, role: str):
    """A test client signed in as a new account with this role."""
    add_account(app, name, role)
    client = app.test_client()
    response = client.post("/login", data={"name": name, "password": PASSWORD})
    assert response.status_code == 302, response.data
    return client


def csrf_of(client, path: str = "/") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match[1]


def version_of(client, path: str = "/") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="version" value="([^"]+)"', page)
    assert match, "no rules version on the page"
    return match[1]


def api_request(client, method: str, path: str, body: dict):
    """A JSON API call as the dashboard's own pages make it: with the session's CSRF token, and
    the rules version the change is based on (the current one unless `body` names one)."""
    token = client.get("/api/session").get_json()["csrf"]
    body.setdefault("version", client.get("/api/rules").get_json()["version"])
    return client.open(path, method=method, json=body, headers={"X-CSRF-Token": token})
