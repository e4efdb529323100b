"""A message's count reads right: the first message of a group says "2 times" (it is the
first anyone hears of it), a follow-up "N more times since the last message". Real SQLite
(dashboard.db's outbox) and the real composer."""

from __future__ import annotations

from dashboard.alerts.message import compose
from dashboard.data import alert_outbox
from dashboard.data.db import connect

NOON = 1_800_000_000.0
CONTENT = {
    "title": "Mia tried to get round the filter",
    "time": "12:00",
    "date": "Mon 23 Nov",
    "device": "Mia's tablet",
    "link": "https://filterd.home.arpa/blocked/",
}
ROUTE = alert_outbox.Route("email", "dsl@home.example")
KEY = "bypass.attempt|mia|bypass"


def test_the_first_message_of_a_group_says_n_times_not_n_more(tmp_path):
    db = connect(tmp_path / "dashboard.db")
    # The first try failed (the mail server was down), and a second attempt joined it.
    alert_outbox.queue(db, ROUTE, KEY, 1, NOON, CONTENT, 1800.0, None)
    alert_outbox.mark_failed(db, [1], NOON, "[Errno 111] Connection refused")
    alert_outbox.queue(db, ROUTE, KEY, 2, NOON + 5, CONTENT, 1800.0, None)
    (first,) = alert_outbox.due(db, NOON + 60)
    message = compose([first])
    assert message.subject == "Mia tried to get round the filter: 2 times"
    assert "more" not in message.text and "(2 times)" in message.text
    assert "Mia's tablet" in message.text
    alert_outbox.mark_sent(db, [first.id], NOON + 60)

    # Two more in the same window: a follow-up when the window closes.
    alert_outbox.queue(db, ROUTE, KEY, 3, NOON + 70, CONTENT, 1800.0, None)
    alert_outbox.queue(db, ROUTE, KEY, 4, NOON + 80, CONTENT, 1800.0, None)
    (follow_up,) = alert_outbox.due(db, NOON + 1801)
    message = compose([follow_up])
    assert message.subject == "Mia tried to get round the filter: 2 more times"
    assert "2 more times since the last message." in message.text
