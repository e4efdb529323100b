"""The blocked-request log, its review and CSV export, and the audit trail, on real files."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import datetime

import pytest

from dashboard.data import blocked_log
from dashboard.data.db import connect
from dashboard.data.export import safe_cell
from filterd.db.read import FilterdReader
from tests.support.dashboard_app import csrf_of, logged_in, make_app
from tests.support.filterd_db import LONG_AGO, query_row, write_query_log

NOW = time.time()
EVIL_NAME = "=cmd|' /C calc'!A0.example"


row = query_row


def ids_on(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="q(\d+)"', page)]


@pytest.mark.parametrize(
    ("role", "status"),
    [("viewer", 403), ("carer", 403), ("safeguarding_lead", 200), ("administrator", 200)],
)
@pytest.mark.parametrize("path", ["/blocked/", "/audit/", "/blocked/export.csv"])
def test_only_review_and_audit_roles_open_the_pages(tmp_path, role, status, path, signed_in):
    write_query_log(tmp_path, [row(NOW - 60, "games.example")])
    client = signed_in("Pat", role)
    assert client.get(path).status_code == status


def test_signed_out_visitors_go_to_the_login_page(dashboard_app):
    response = dashboard_app.test_client().get("/blocked/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_pages_work_before_filterd_has_written_a_log(signed_in):
    client = signed_in("Lee", "safeguarding_lead")
    assert "No blocked requests match" in client.get("/blocked/").get_data(as_text=True)
    assert client.get("/blocked/export.csv").get_data(as_text=True).startswith("time,child")


def test_carers_cannot_post_a_review(dashboard_app, tmp_path, signed_in):
    (query_id,) = write_query_log(tmp_path, [row(NOW - 60, "games.example")])
    client = signed_in("Cam", "carer")
    response = client.post(
        "/blocked/review",
        data={"id": query_id, "outcome": "no_concern", "csrf": csrf_of(client)},
    )
    assert response.status_code == 403
    db = dashboard_app.extensions["dashboard"]
    with dashboard_app.app_context():
        assert db.db().execute("SELECT count(*) FROM reviews").fetchone()[0] == 0


def test_high_risk_comes_first_then_newest_and_only_blocked_answers(tmp_path, signed_in):
    ids = write_query_log(
        tmp_path,
        [
            row(NOW - 30, "newest-game.example", categories="gaming"),
            row(NOW - 3000, "old-self-harm.example", categories="social,self_harm"),
            row(NOW - 600, "bedtime.example", reason="offline"),
            row(NOW - 900, "gambling.example", categories="gambling"),
            row(NOW - 10, "allowed.example", reason="forwarded"),
            row(NOW - 10, "cached.example", reason="cached", categories="adult"),
        ],
    )
    client = signed_in("Lee", "safeguarding_lead")
    page = client.get("/blocked/").get_data(as_text=True)
    assert ids_on(page) == [ids[3], ids[1], ids[0], ids[2]]
    assert "allowed.example" not in page and "cached.example" not in page
    assert page.count('<strong class="risk">Not reviewed yet</strong>') == 2
    assert page.count("High risk: self-harm") == 1 and page.count("High risk: gambling") == 1


def test_filters_by_child_device_category_and_time(tmp_path):
    app = make_app(tmp_path, retention_days=60)
    ids = write_query_log(
        tmp_path,
        [
            row(NOW - 60, "a.example", child="sam", categories="gaming"),
            row(NOW - 120, "b.example", child="alex", client="192.168.1.30", categories="adult"),
            row(NOW - 3 * 86400, "c.example", child="sam", categories="adult"),
            row(NOW - 40 * 86400, "d.example", child="sam"),
        ],
    )
    client = logged_in(app, "Lee", "safeguarding_lead")

    def shown(query: str) -> list[int]:
        return ids_on(client.get("/blocked/?" + query).get_data(as_text=True))

    assert shown("") == [ids[1], ids[0]], "the last 24 hours by default"
    assert shown("range=7d") == [ids[1], ids[2], ids[0]]
    assert shown("range=7d&child=sam") == [ids[2], ids[0]]
    assert shown("range=30d&device=192.168.1.30") == [ids[1]]
    assert shown("range=30d&category=adult") == [ids[1], ids[2]]
    assert shown("range=30d&category=gaming") == [ids[0]]
    day = datetime.fromtimestamp(NOW - 40 * 86400, blocked_log.HOME_TZ).date().isoformat()
    assert ids[3] in shown(f"range=dates&from={day}&to={day}")
    assert ids[0] not in shown(f"range=dates&from={day}&to={day}")


def test_pages_of_a_hundred(tmp_path, signed_in):
    write_query_log(tmp_path, [row(NOW - i, f"n{i}.example") for i in range(1, 151)])
    client = signed_in("Lee", "safeguarding_lead")
    first = client.get("/blocked/").get_data(as_text=True)
    second = client.get("/blocked/?page=2").get_data(as_text=True)
    assert len(ids_on(first)) == 100 and len(ids_on(second)) == 50
    assert "Next page" in first and "Next page" not in second


def test_a_review_is_stored_shown_and_audited(tmp_path, signed_in):
    ids = write_query_log(
        tmp_path,
        [
            row(NOW - 60, "self-harm.example", categories="self_harm"),
            row(NOW - 70, "b.example"),
            row(NOW - 80, "c.example"),
        ],
    )
    client = signed_in("Lee", "safeguarding_lead")
    response = client.post(
        "/blocked/review",
        data={
            "id": [ids[0]],
            "outcome": "discussed_with_child",
            "note": "Talked it through at tea time",
            "csrf": csrf_of(client, "/blocked/"),
            "range": "7d",
        },
    )
    assert response.status_code == 302 and "range=7d" in response.headers["Location"]
    page = client.get("/blocked/").get_data(as_text=True)
    assert "Discussed with the child" in page
    assert "Talked it through at tea time" in page
    assert "Reviewed by Lee" in page
    assert "not reviewed yet" not in page

    group = client.post(
        "/blocked/review",
        data={"id": [ids[1], ids[2]], "outcome": "no_concern", "csrf": csrf_of(client)},
        follow_redirects=True,
    )
    assert "Marked 2 blocked requests reviewed: No concern" in group.get_data(as_text=True)

    trail = client.get("/audit/").get_data(as_text=True)
    assert trail.index(f"blocked requests {ids[1]}, {ids[2]}") < trail.index(
        f"blocked requests {ids[0]}"
    ), "newest first"
    assert "discussed_with_child: Talked it through at tea time" in trail
    assert trail.count('<span class="action">reviewed blocked requests</span>') == 2


def test_a_review_needs_a_real_outcome_and_a_blocked_request(dashboard_app, tmp_path, signed_in):
    ids = write_query_log(
        tmp_path, [row(NOW - 60, "x.example"), row(NOW - 60, "ok.example", reason="forwarded")]
    )
    client = signed_in("Lee", "safeguarding_lead")
    bad = client.post(
        "/blocked/review",
        data={"id": ids[0], "outcome": "shrug", "csrf": csrf_of(client)},
        follow_redirects=True,
    )
    assert "Choose an outcome" in bad.get_data(as_text=True)
    not_blocked = client.post(
        "/blocked/review",
        data={"id": ids[1], "outcome": "no_concern", "csrf": csrf_of(client)},
        follow_redirects=True,
    )
    assert "at least one blocked request" in not_blocked.get_data(as_text=True)
    with dashboard_app.app_context():
        db = dashboard_app.extensions["dashboard"].db()
        assert db.execute("SELECT count(*) FROM reviews").fetchone()[0] == 0


def test_the_csv_export_is_formula_safe_and_audited(tmp_path, signed_in):
    ids = write_query_log(
        tmp_path,
        [
            row(NOW - 60, EVIL_NAME, categories="adult"),
            row(NOW - 120, "+plus.example", child="alex"),
        ],
    )
    client = signed_in("Lee", "safeguarding_lead")
    client.post(
        "/blocked/review",
        data={
            "id": ids[0],
            "outcome": "raised_with_dsl",
            "note": "@SUM(1+1) passed on",
            "csrf": csrf_of(client, "/blocked/"),
        },
    )
    response = client.get("/blocked/export.csv?child=sam")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 1, "the filter applies to the export"
    (only,) = rows
    assert only["site"] == "'" + EVIL_NAME
    assert only["note"] == "'@SUM(1+1) passed on"
    assert only["reviewed outcome"] == "Concern raised with the safeguarding lead"
    assert only["reviewer"] == "Lee"
    assert only["device"] == "Sam's tablet" and only["device address"] == "192.168.1.20"
    assert only["categories"] == "adult" and only["why blocked"] == "Blocked category"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", only["time"])
    trail = client.get("/audit/").get_data(as_text=True)
    assert '<span class="action">exported the blocked log</span>' in trail
    assert "1 rows; last 24 hours, child sam" in trail


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain.example", "plain.example"),
    ],
)
def test_cells_that_a_spreadsheet_would_run_are_quoted(value, cell):
    assert safe_cell(value) == cell


def test_a_device_supplied_name_is_escaped_in_the_page(tmp_path, signed_in):
    write_query_log(tmp_path, [row(NOW - 60, "<script>alert(1)</script>.example")])
    client = signed_in("Ann", "administrator")
    page = client.get("/blocked/").get_data(as_text=True)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.example" in page


def test_the_nav_has_the_new_links(signed_in):
    client = signed_in("Ann", "administrator")
    page = client.get("/").get_data(as_text=True)
    assert 'href="/blocked/">Blocked<' in page and 'href="/audit/">Audit trail<' in page


def test_the_log_is_read_through_an_index_never_a_scan_of_every_query(tmp_path):
    """The statements the production read API runs for a page, planned."""
    write_query_log(tmp_path, [row(NOW - 60, "games.example")])
    reader = FilterdReader(tmp_path / "filterd.db", LONG_AGO)
    ran: list[str] = []
    reader.db.set_trace_callback(ran.append)

    def plans(filters: dict) -> list[str]:
        ran.clear()
        blocked_log.page_of(
            reader, connect(tmp_path / "dashboard.db"), blocked_log.parse_filters(filters)
        )
        steps = [reader.db.execute("EXPLAIN QUERY PLAN " + sql) for sql in ran]
        return [" ".join(str(step[-1]) for step in plan) for plan in steps]

    month = plans({"range": "30d"})
    assert month and all(
        "USING INDEX queries_high_risk_v2_ts" in p or "USING INDEX queries_blocked_ts" in p
        for p in month
    ), month
    assert all("USING INDEX" in p for p in plans({"range": "7d", "child": "sam"}))
    reader.close()


def test_categories_read_the_same_on_the_review_page_as_in_alerts_and_the_audit_trail(
    tmp_path, signed_in
):
    # One label per category (filterd.lists.categories.label_of): the review page wrote
    # "self harm" and "ai chat" where alerts said "self-harm" and the editor "AI chat".
    write_query_log(tmp_path, [row(NOW - 60, "companion.example", categories="self_harm,ai_chat")])
    client = signed_in("Lee", "safeguarding_lead")
    page = client.get("/blocked/").get_data(as_text=True)
    assert "self-harm, AI chat" in page
    assert '<option value="ai_chat">AI chat</option>' in page
    assert "self harm" not in page and "ai chat" not in page
