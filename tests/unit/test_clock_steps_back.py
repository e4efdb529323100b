"""When the wall clock steps backwards, no alert is held back and no event is lost: a group
whose window starts in the future is closed (the event's message goes at once), and the
once-a-minute dedupe of high-risk events forgets a time from the future. Real SQLite: the
query-log writer's own filterd.db and the dashboard's dashboard.db."""

from __future__ import annotations

import sqlite3

from dashboard.data import alert_outbox
from dashboard.data.db import connect
from filterd.db.querylog_writer import Writer
from filterd.dns.wire import text_to_wire
from filterd.lists.categories import mask_of

NOON = 1_800_000_000.0
SELF_HARM = mask_of(["self_harm"])


def entry(ts: float, name: str) -> tuple:
    return (ts, "192.168.1.20", text_to_wire(name), 1, 3, "blocked", 0.001, False, SELF_HARM, "sam")


def test_a_high_risk_block_after_the_clock_stepped_back_is_still_an_event(tmp_path):
    writer = Writer(tmp_path / "filterd.db", 7)
    writer.write([entry(NOON + 3 * 3600, "harm.example")])  # the clock was 3 hours fast
    writer.write([entry(NOON, "harm.example")])  # set right: the same device and name
    writer.write([entry(NOON + 10, "harm.example")])  # within the minute: one event still
    with sqlite3.connect(tmp_path / "filterd.db") as db:
        kinds = [r[0] for r in db.execute("SELECT kind FROM events ORDER BY id")]
    assert kinds == ["block.high_risk", "block.high_risk"]


def test_a_self_harm_alert_after_the_clock_stepped_back_goes_at_once(tmp_path):
    db = connect(tmp_path / "dashboard.db")
    route = alert_outbox.Route("email", "dsl@home.example")
    key = "block.high_risk|sam|self_harm"
    alert_outbox.queue(db, route, key, 1, NOON + 3 * 3600, {"title": "t"}, 1800.0, None)
    alert_outbox.mark_sent(db, [1], NOON + 3 * 3600)
    alert_outbox.queue(db, route, key, 2, NOON, {"title": "t"}, 1800.0, None)  # clock set back
    due = [a.id for a in alert_outbox.due(db, NOON + 1)]
    assert due == [2], "sent now, not as a follow-up when a window hours ahead closes"
