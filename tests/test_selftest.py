"""The filter self-test against a real filterd: blocked categories are checked with real DNS
questions, the canaries answered, a category no list covers reported; Health shows the result."""

from __future__ import annotations

import json

from tests.dashboard_support import logged_in, make_app
from tests.support.filterd_process import run_cli
from tests.test_blocklists import write_lists
from tests.test_event_log import NO_DISCOVERY, events


def test_the_self_test_finds_a_category_no_list_covers_and_health_shows_it(start_filterd, tmp_path):
    shipped = write_lists(
        tmp_path / "shipped",
        adult=["adult.example", "www.adult2.example", "adult3.example"],
        illegal=["http://abuse.example/page.html"],
        # gambling is blocked for the household, but no list has any name in it
    )
    filterd = start_filterd(
        lists_update={
            "directory": str(tmp_path / "lists"),
            "shipped": str(shipped),
            "refresh_hours": 0,
        },
        block_categories=["adult", "gambling"],
        discovery=NO_DISCOVERY,
    )
    done = run_cli("selftest", "--config", str(filterd.config_path))
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "ok   adult: blocked: 3 names blocked" in lines
    assert "ok   illegal content: blocked: 1 names blocked" in lines
    gambling = "FAIL gambling: covered by a list: no list has any name"
    assert any(line.startswith(gambling) for line in lines)
    assert "ok   encrypted-DNS canary use-application-dns.net: NXDOMAIN" in lines

    (row,) = [e for e in events(filterd.db_path) if e[2].startswith("selftest.")]
    assert row[2] == "selftest.failed" and row[4] == "warning"
    assert json.loads(row[7])["ok"] is False

    app = make_app(filterd.workdir)  # a dashboard on the same filterd.db
    client = logged_in(app, "Vi", "viewer")
    page = client.get("/health").get_data(as_text=True)
    assert "Filter self-test" in page and "found problems" in page
    assert "gambling: covered by a list (no list has any name in it" in page
