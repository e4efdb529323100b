"""The child page's activity charts (issue 6): inline SVG from filterd.db, in home time."""

from __future__ import annotations

import html
import re
import sqlite3
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from dashboard.data import charts
from dashboard.web import children
from filterd.db.read import FilterdReader
from tests.support.filterd_db import LONG_AGO, query_row, write_queries, write_usage

LONDON = ZoneInfo("Europe/London")
SCRIPT = "<script>alert(1)</script>.evil.com"
NOW = datetime(2025, 7, 9, 18, 30, tzinfo=LONDON).timestamp()  # a Wednesday, in BST


def at(day: int, hour: int, minute: int = 0, month: int = 7) -> float:
    return datetime(2025, month, day, hour, minute, tzinfo=LONDON).timestamp()


def row(ts: float, name: str, reason: str = "forwarded", categories: str = "", child="sam"):
    return query_row(ts, name, reason=reason, categories=categories, child=child, rcode="NOERROR")


def fill(tmp_path, rows, usage=()) -> None:
    write_queries(tmp_path / "filterd.db", rows)
    write_usage(tmp_path / "filterd.db", usage)


def table(page: str, table_id: str) -> list[tuple[str, ...]]:
    """The rows of one of the charts' text tables, as (header, cells...) unescaped."""
    body = re.search(rf'<table id="{table_id}">(.*?)</table>', page, re.S)
    assert body, table_id
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", body[1], re.S)[1:]:
        rows.append(tuple(html.unescape(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr)))
    return rows


@pytest.fixture
def page(tmp_path, signed_in, monkeypatch):
    monkeypatch.setattr(children, "_now", lambda: NOW)
    rows = [
        # today, 9 July, home time (BST): 3 at 07:xx, 1 at 08:59, 2 at 17:xx, 1 at 23:30
        row(at(9, 7, 5), "www.bbc.co.uk"),
        row(at(9, 7, 40), "news.bbc.co.uk"),
        row(at(9, 7, 59), "bbc.co.uk"),
        row(at(9, 8, 59), "www.youtube.com", categories="video,social"),
        row(at(9, 17, 0), "i.ytimg.youtube.com", categories="video"),
        row(at(9, 17, 1), "casino.example", "blocked", categories="gambling"),
        row(at(9, 23, 30), "late.example"),
        row(at(9, 0, 0), SCRIPT, "blocked", categories="adult"),
        # earlier this week (3 July is the first day of the 7)
        row(at(3, 0, 10), "www.youtube.com", categories="video,social"),
        row(at(4, 12), "casino.example", "blocked", categories="gambling"),
        row(at(5, 12), "casino.example", "blocked", categories="gambling"),
        row(at(6, 12), "m.youtube.com", "limit", categories="video,social"),
        # not counted: before the week, another child, no child
        row(at(2, 23, 59), "old.example"),
        row(at(9, 7, 10), "other.example", child="alex"),
        row(at(9, 7, 11), "household.example", child=""),
    ]
    usage = [
        ("2025-07-09", "sam", "overall", 95),
        ("2025-07-09", "sam", "video", 40),
        ("2025-07-03", "sam", "overall", 30),
        ("2025-07-02", "sam", "overall", 500),  # before the 7 days
        ("2025-07-08", "alex", "overall", 77),
    ]
    fill(tmp_path, rows, usage)
    # a safeguarding lead sees every request (a viewer's charts: test_a_viewer_...)
    client = signed_in("Pat", "safeguarding_lead")
    response = client.get("/children/sam")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_queries_per_hour_today_in_home_time(page):
    hours = dict(table(page, "chart-hours-table"))
    assert len(hours) == 24
    expected = {"00:00": "1", "07:00": "3", "08:00": "1", "17:00": "2", "23:00": "1"}
    assert {h: n for h, n in hours.items() if n != "0"} == expected
    assert "Queries per hour today (2025-07-09): 8 in all" in page
    svg = re.search(r'<svg[^>]*aria-labelledby="chart-hours-title".*?</svg>', page, re.S)[0]
    assert svg.count('<rect class="bar"') == 24
    assert 'role="img"' in svg and "07:00 3" in svg


def test_top_sites_in_order_by_registrable_name(page):
    sites = table(page, "chart-sites-table")
    assert sites == [
        ("youtube.com", "4"),
        ("bbc.co.uk", "3"),
        ("casino.example", "3"),
        ("evil.com", "1"),
        ("late.example", "1"),
    ]
    assert "other.example" not in page and "old.example" not in page
    assert "household.example" not in page


def test_category_totals_allowed_and_blocked(page):
    assert table(page, "chart-categories-table") == [
        ("video", "3", "1"),
        ("gambling", "0", "3"),
        ("social", "2", "1"),
        ("adult", "0", "1"),
    ]


def test_minutes_online_for_the_last_seven_days(page):
    days = table(page, "chart-days-table")
    assert [d[0][-11:-1] for d in days] == [f"2025-07-{d:02d}" for d in range(3, 10)]
    assert [d[1] for d in days] == ["30", "0", "0", "0", "0", "0", "95"]
    assert days[-1][0] == "Wed 09 (2025-07-09)"


def test_the_charts_need_no_script_or_style_attribute(page):
    section = re.search(r'<section aria-labelledby="activity-heading".*?</section>', page, re.S)[0]
    assert "<script" not in section and "style=" not in section and "http" not in section
    assert section.count('role="img"') == 4 and section.count("<title id=") == 4


def test_a_script_name_in_a_top_site_is_escaped(tmp_path, signed_in, monkeypatch):
    monkeypatch.setattr(children, "_now", lambda: NOW)
    fill(tmp_path, [row(at(9, 10), "<script>x</script>"), row(at(9, 11), '"><img src=x>')])
    client = signed_in("Pat", "carer")
    page = client.get("/children/sam").get_data(as_text=True)
    assert "<script>x</script>" not in page and "<img src=x>" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page
    assert "&#34;&gt;&lt;img src=x&gt;" in page or "&quot;&gt;&lt;img src=x&gt;" in page
    assert sorted(table(page, "chart-sites-table")) == [
        ('"><img src=x>', "1"),
        ("<script>x</script>", "1"),
    ]


def test_the_page_works_without_filterd_db(tmp_path, signed_in):
    client = signed_in("Pat", "viewer")
    page = client.get("/children/sam")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Sam's activity" in text and "filterd has not written its query log" in text
    assert not (tmp_path / "filterd.db").exists()


def test_the_page_works_with_an_empty_log(tmp_path, signed_in, monkeypatch):
    monkeypatch.setattr(children, "_now", lambda: NOW)
    fill(tmp_path, [])
    client = signed_in("Pat", "viewer")
    text = client.get("/children/sam").get_data(as_text=True)
    assert "No queries yet today." in text and "No queries this week." in text
    assert [d[1] for d in table(text, "chart-days-table")] == ["0"] * 7


def test_the_page_works_when_filterd_db_has_no_tables(tmp_path, signed_in):
    sqlite3.connect(tmp_path / "filterd.db").close()
    client = signed_in("Pat", "viewer")
    page = client.get("/children/sam")
    assert page.status_code == 200
    assert "filterd has not written its query log" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("name", "site"),
    [
        ("www.bbc.co.uk", "bbc.co.uk"),
        ("bbc.co.uk.", "bbc.co.uk"),
        ("a.b.example.com", "example.com"),
        ("abc.net.au", "abc.net.au"),
        ("co.uk", "co.uk"),
        ("localhost", "localhost"),
        ("WWW.Example.ORG", "example.org"),
        ("x.y.sch.uk", "y.sch.uk"),
    ],
)
def test_site_of(name, site):
    assert charts.site_of(name) == site


def _reader_with(tmp_path, rows) -> FilterdReader:
    write_queries(tmp_path / "filterd.db", rows)
    return FilterdReader(tmp_path / "filterd.db", LONG_AGO)


def test_hours_across_the_clock_changes(tmp_path):
    spring = [row(at(30, 0, 30, month=3), "a.com"), row(at(30, 3, 30, month=3), "a.com")]
    reader = _reader_with(tmp_path / "spring", spring)
    counts = charts.hour_counts(reader, "sam", date(2025, 3, 30), LONDON, hide_high_risk=False)
    assert counts[0] == 1 and counts[3] == 1 and sum(counts) == 2
    first_one = datetime(2025, 10, 26, 0, 30, tzinfo=LONDON).timestamp() + 3600  # 01:30 BST
    autumn = [row(first_one, "a.com"), row(first_one + 3600, "a.com")]  # then 01:30 GMT
    reader = _reader_with(tmp_path / "autumn", autumn)
    counts = charts.hour_counts(reader, "sam", date(2025, 10, 26), LONDON, hide_high_risk=False)
    assert counts[1] == 2 and sum(counts) == 2


@pytest.mark.parametrize("hide_high_risk", [False, True])
def test_the_charts_read_the_query_log_by_the_child_index(tmp_path, hide_high_risk):
    """Every statement the production code runs on the query log for the charts, planned."""
    reader = _reader_with(tmp_path, [row(NOW - 60, "a.com"), row(NOW - 30, "b.com", "blocked")])
    ran: list[str] = []
    reader.db.set_trace_callback(ran.append)
    charts.activity(reader, "sam", LONDON, 0, NOW, hide_high_risk=hide_high_risk)
    on_the_log = [sql for sql in ran if "FROM queries" in sql]
    assert len(on_the_log) == 3  # hours, categories, sites
    for sql in on_the_log:
        plan = " ".join(str(r[-1]) for r in reader.db.execute("EXPLAIN QUERY PLAN " + sql))
        assert "queries_child_ts" in plan, (sql, plan)
