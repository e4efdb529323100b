"""A digest's contents come from its own period only, read from real SQLite files: filterd.db
(query log and event log, written by filterd's own writers) and dashboard.db."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from dashboard.alerts.digest import DAILY, _period, build
from dashboard.data import access_requests
from dashboard.data.db import connect
from filterd.db.events import EventLog
from filterd.db.read import FilterdReader
from filterd.events.kinds import ACCESS_REQUESTED
from filterd.rules.model import Profile, Rules
from tests.support.filterd_db import LONG_AGO, query_row, write_queries
from tests.support.wall_clock import london

LON = ZoneInfo("Europe/London")
SAM = "192.168.1.20"


def test_daily_digest_counts_only_its_day_and_lists_requests_with_their_answers(tmp_path):
    filterd_db, dashboard_path = tmp_path / "filterd.db", tmp_path / "dashboard.db"
    social = [f"2026-11-23 10:0{i}" for i in range(2)] + [f"2026-11-24 09:0{i}" for i in range(3)]
    write_queries(
        filterd_db,
        # one the day before, then the five in the period
        [query_row(london("2026-11-22 23:30"), "game.example", categories="gaming")]
        + [query_row(london(when), "social.example", categories="social") for when in social],
    )
    log = EventLog(filterd_db, "dashboard")
    dashboard = connect(dashboard_path)
    for when, site in (
        ("2026-11-23 11:00", "social.example"),
        ("2026-11-23 12:00", "chat.example"),
        ("2026-11-24 08:00", "video.example"),  # the next day: tomorrow's digest
    ):
        ts = london(when)
        log.append(ACCESS_REQUESTED, "sam", SAM, {"site": site, "reason": "blocked"}, ts)
        access_requests.add(dashboard, ts, SAM, "sam", "Sam's phone", site, "blocked", "")
    first = access_requests.made_between(
        dashboard, london("2026-11-23 00:00"), london("2026-11-24 00:00")
    )
    access_requests.answer_request(
        dashboard, first[0].id, "approved", "30 minutes", "Jo", london("2026-11-23 11:05")
    )
    log.close()

    rules = Rules(LON, {"sam": Profile("sam", "Sam Taylor", "13_15", 0)}, (), None)
    reader = FilterdReader(filterd_db, LONG_AGO)
    try:
        digest = build(
            _period(DAILY, date(2026, 11, 23), 1, LON), reader, dashboard, rules, "https://box"
        )
    finally:
        reader.close()
        dashboard.close()

    text = digest["text"]
    assert "blocked social: 2" in text, "the day's own blocks, not every one since"
    assert "gaming" not in text, "the evening before is not in Monday's digest"
    assert "requests for access: 2" in text
    assert "social.example: allowed by Jo" in text
    assert "chat.example: not answered yet" in text
    assert "video.example" not in text
    page = digest["html"]
    assert "Requests for access: 2" in page and "social.example: allowed by Jo" in page
