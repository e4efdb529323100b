"""The filter self-test on demand: a carer presses "Run the self-test now" on Health, or
someone runs `filterd selftest --children`; the running filterd tests each child's rules
through its own DNS path at once (and the household check), and the result is kept."""

from __future__ import annotations

import json
import sqlite3

import yaml

from filterd.rules.guards import with_end_line
from tests.support.dashboard_app import audit_trail, csrf_of, logged_in, make_app
from tests.support.events import NO_DISCOVERY, SAM
from tests.support.filterd_process import run_cli, wait_for
from tests.support.lists import write_lists


def selftests(db_path) -> list[dict]:
    """Every self-test result in filterd's event log, oldest first (scope "" = household)."""
    try:
        with sqlite3.connect(db_path) as db:
            rows = db.execute(
                "SELECT data FROM events WHERE kind IN ('selftest.result', 'selftest.failed')"
                " ORDER BY id"
            ).fetchall()
    except sqlite3.Error:
        return []
    return [json.loads(row[0]) for row in rows]


def of_children(db_path) -> list[dict]:
    return [r for r in selftests(db_path) if r.get("scope") == "profiles"]


def of_household(db_path) -> list[dict]:
    return [r for r in selftests(db_path) if r.get("scope") != "profiles"]


def start_home(tmp_path, start_filterd):
    home = tmp_path / "home"
    home.mkdir()
    rules = home / "rules.yaml"
    rules.write_text(
        with_end_line(
            yaml.safe_dump(
                {
                    "timezone": "Europe/London",
                    "children": {
                        "sam": {"name": "Sam", "age_band": "13_15", "block_categories": ["gaming"]}
                    },
                    "devices": [{"ip": SAM, "name": "Sam's phone", "owner": "sam"}],
                }
            )
        )
    )
    shipped = write_lists(tmp_path / "shipped", gaming=["game.example"])
    filterd = start_filterd(
        rules=str(rules),
        lists_update={"directory": str(tmp_path / "lists"), "shipped": str(shipped)},
        discovery=NO_DISCOVERY,
    )
    assert wait_for(lambda: of_children(filterd.db_path), timeout=15), "the first run at start"
    return filterd


def test_a_carer_runs_the_self_test_from_health_and_a_viewer_cannot(tmp_path, start_filterd):
    filterd = start_home(tmp_path, start_filterd)
    app = make_app(filterd.workdir)  # a dashboard on the same filterd.db
    before = len(of_children(filterd.db_path))
    assert of_household(filterd.db_path) == [], "the daily household check has not run yet"

    viewer = logged_in(app, "Vi", "viewer")
    assert "Run the self-test now" not in viewer.get("/health").get_data(as_text=True)
    refused = viewer.post("/health/selftest", data={"csrf": csrf_of(viewer, "/health")})
    assert refused.status_code == 403

    carer = logged_in(app, "Jo", "carer")
    assert "Run the self-test now" in carer.get("/health").get_data(as_text=True)
    pressed = carer.post("/health/selftest", data={"csrf": csrf_of(carer, "/health")})
    assert pressed.status_code == 302
    assert "The self-test is running" in carer.get("/health").get_data(as_text=True)

    assert wait_for(lambda: len(of_children(filterd.db_path)) == before + 1, timeout=10)
    newest = of_children(filterd.db_path)[-1]
    names = {check["name"]: check for check in newest["checks"]}
    assert names["Sam: gaming blocked"]["ok"], names
    assert wait_for(lambda: of_household(filterd.db_path), timeout=30), "the household check too"
    assert len(of_children(filterd.db_path)) == before + 1, "one request, one run"
    assert [(e.user, e.action) for e in audit_trail(app) if e.action == "selftest.run"] == [
        ("Jo", "selftest.run")
    ], "the viewer's refused try asked for nothing"


def test_filterd_selftest_children_prints_each_childs_result(tmp_path, start_filterd):
    filterd = start_home(tmp_path, start_filterd)
    done = run_cli("selftest", "--config", str(filterd.config_path), "--children")
    assert "ok   Sam: gaming blocked: 1 names blocked" in done.stdout, done.stdout + done.stderr
    assert (
        "note Sam: illegal content blocked: No illegal-content list yet: add the IWF list your"
        " licence gives you" in done.stdout
    ), "no licensed list yet: a standing notice, not a failure"
    assert done.returncode == 1


def test_asking_filterd_that_is_not_running_says_so(tmp_path, start_filterd):
    filterd = start_home(tmp_path, start_filterd)
    filterd.stop()
    done = run_cli("selftest", "--config", str(filterd.config_path), "--children", "--wait", "3")
    assert "no answer in 3 s (is filterd running?)" in done.stdout
    assert done.returncode == 1
