"""The self-test per child profile, run by a real filterd through its own DNS path: each
category the profile blocks, its safe search and its bedtime, kept in the event log."""

from __future__ import annotations

import io
import json
import re
import sqlite3
from datetime import datetime
from zoneinfo import ZoneInfo

import yaml
from pypdf import PdfReader

from dashboard.data.db import connect
from dashboard.reports.evidence import build
from filterd.db.read import FilterdReader
from filterd.rules.guards import with_end_line
from tests.support.dashboard_app import logged_in, make_app
from tests.support.events import NO_DISCOVERY, SAM
from tests.support.filterd_db import LONG_AGO
from tests.support.filterd_process import wait_for
from tests.support.lists import write_lists

LONDON = ZoneInfo("Europe/London")


def profile_results(db_path) -> list[dict]:
    try:
        with sqlite3.connect(db_path) as db:
            rows = db.execute(
                "SELECT data FROM events WHERE kind IN ('selftest.result', 'selftest.failed')"
            ).fetchall()
    except sqlite3.Error:
        return []
    return [r for r in (json.loads(row[0]) for row in rows) if r.get("scope") == "profiles"]


def test_each_childs_profile_is_checked_through_the_real_path_and_gaps_reported(
    tmp_path, start_filterd
):
    rules = tmp_path / "rules.yaml"
    sam = {
        "name": "Sam Taylor",
        "age_band": "13_15",
        "block_categories": ["social", "gaming"],
        "offline": [{"days": "every_day", "start": "21:00", "end": "07:00"}],
        "safe_search": {"google": True},
    }
    rules.write_text(
        with_end_line(
            yaml.safe_dump(
                {
                    "timezone": "Europe/London",
                    "children": {"sam": sam, "kit": {"name": "Kit", "age_band": "9_12"}},
                    "devices": [{"ip": SAM, "name": "Sam's phone", "owner": "sam"}],
                }
            )
        )
    )
    shipped = write_lists(
        tmp_path / "shipped",
        social=["social.example", "chat.example"],
        gaming=["game.example"],
        self_harm=["harm.example"],
    )
    filterd = start_filterd(
        rules=str(rules),
        lists_update={"directory": str(tmp_path / "lists"), "shipped": str(shipped)},
        discovery=NO_DISCOVERY,
    )
    assert wait_for(lambda: profile_results(filterd.db_path), timeout=15)
    (result,) = profile_results(filterd.db_path)
    checks = {c["name"]: c for c in result["checks"]}

    assert (
        checks["Sam: social blocked"]["ok"]
        and "2 names blocked" in checks["Sam: social blocked"]["detail"]
    )
    assert checks["Sam: gaming blocked"]["ok"]
    assert checks["Sam: malware or phishing blocked"]["detail"].startswith("no list"), "household's"
    assert checks["Sam: safe search"]["ok"], checks["Sam: safe search"]
    bedtime = checks["Sam: bedtime"]
    at = re.search(r"checked as at \w{3} (\d\d):\d\d", bedtime["detail"])
    assert bedtime["ok"] and at and (int(at[1]) >= 21 or int(at[1]) < 7), "inside 21:00-07:00"
    # No licensed illegal-content list yet: a standing notice in plain words, not a failure
    illegal = checks["Sam: illegal content blocked"]
    assert illegal["ok"] and illegal["notice"], illegal
    assert (
        illegal["detail"] == "No illegal-content list yet: add the IWF list your licence gives you"
    )
    assert not result["ok"]
    assert not any(name.startswith("Kit") for name in checks), "Kit has no device: not in use"

    with sqlite3.connect(filterd.db_path) as db:
        logged = db.execute("SELECT name FROM queries WHERE child = 'sam'").fetchall()
        counted = db.execute("SELECT * FROM usage").fetchall()
    assert logged == [] and counted == [], "the test is no part of Sam's history or usage"

    app = make_app(filterd.workdir)  # a dashboard on the same filterd.db
    page = logged_in(app, "Vi", "viewer").get("/health").get_data(as_text=True)
    shown = page[page.index('id="selftest-profiles"') :]
    assert "found problems" in shown[:400]
    assert "Sam: bedtime (refused at bedtime" in shown
    assert "No illegal-content list yet: add the IWF list your licence gives you" in shown
    assert "not ok</strong>: Sam: illegal content" not in shown

    reader = FilterdReader(filterd.db_path, LONG_AGO)
    dashboard = connect(tmp_path / "report-dashboard.db")
    month = datetime.now(LONDON).strftime("%Y-%m")
    try:
        pdf = build(month, reader, dashboard, None, {}, None, LONDON)
    finally:
        reader.close()
        dashboard.close()
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "(each child's rules): found problems" in text
    assert "not ok: Sam: malware or phishing blocked" in text
    assert "note: No illegal-content list yet: add the IWF list your licence gives you" in text
    assert "not ok: Sam: illegal content blocked" not in text
