"""A child's agreement coming up for review reaches the carers and the safeguarding lead by
email, once per agreement and state, with real parts: filterd (its event log), the dashboard's
notifier process and a real SMTP server process, on a clock moved through $FILTERD_CLOCK_FILE."""

from __future__ import annotations

import sqlite3
import time

from dashboard.alerts.routing import set_email
from dashboard.data import agreement_form, agreements
from dashboard.data.db import connect
from filterd.rules.changes import in_force
from filterd.rules.parse import parse_rules_bytes
from tests.support.filterd_process import wait_for
from tests.support.mail_receiver import plain_text_of
from tests.support.wall_clock import london

DUE = "Sam's online-safety agreement is due for review on 27 Nov 2026"
OVERDUE = "Sam's online-safety agreement was due for review on 27 Nov 2026"


def record_signed_agreement(home, review: str) -> None:
    """An agreement recorded and signed for Sam (as the agreement page keeps it)."""
    rules = parse_rules_bytes((home.tmp_path / "rules.yaml").read_bytes())
    summary = [(s.setting, s.value) for s in in_force(rules.children["sam"])]
    fields = {**agreement_form.blank_fields(), "agrees": "phone downstairs", "review": review}
    db = connect(home.dashboard_db)
    try:
        now = london("2026-11-20 10:00")
        made = agreements.add_version(db, "sam", "Cam", "recorded", summary, fields, now)
        agreements.sign(db, made.id, "Sam", "child", "Cam", now)
        db.commit()
    finally:
        db.close()


def subjects(home, address: str) -> list[str]:
    return [m["Subject"] for m in home.mail_to(address)]


def test_review_due_then_overdue_is_mailed_once_each_to_carers_and_the_dsl(make_alerts_home):
    home = make_alerts_home("2026-11-23 16:00")
    record_signed_agreement(home, "2026-11-27")
    for address in ("carer@home.example", "dsl@home.example", "bo@home.example"):
        assert wait_for(lambda a=address: subjects(home, a) == [DUE], timeout=10), address
    mail = home.mail_to("dsl@home.example")[0]
    assert "https://filterd.home.arpa/children/sam/agreement" in plain_text_of(mail)

    time.sleep(4)  # several notifier passes: no second reminder for the same state
    home.dashboard.stop()
    home.dashboard = home.start_dashboard()  # nor after a restart
    time.sleep(4)
    assert subjects(home, "dsl@home.example") == [DUE]
    assert subjects(home, "carer@home.example") == [DUE]

    home.set_time("2026-11-28 10:00")  # the review date has passed: one more, said so
    assert wait_for(lambda: subjects(home, "dsl@home.example") == [DUE, OVERDUE], timeout=10)
    assert wait_for(lambda: subjects(home, "carer@home.example") == [DUE, OVERDUE], timeout=10)
    time.sleep(3)
    assert subjects(home, "dsl@home.example") == [DUE, OVERDUE]
    with sqlite3.connect(home.filterd.db_path) as db:
        kinds = [row[0] for row in db.execute("SELECT kind FROM events WHERE child = 'sam'")]
    assert kinds.count("agreement.review_due") == 1  # one event per state in the log itself
    assert kinds.count("agreement.review_overdue") == 1


def test_a_reminder_nobody_could_receive_waits_until_someone_can(make_alerts_home):
    """Found by the outside check: with no email address on any account the reminder was
    marked sent, so it never went once addresses were added."""
    home = make_alerts_home("2026-11-23 16:00")
    db = connect(home.dashboard_db)
    try:
        users = dict(db.execute("SELECT name, id FROM users").fetchall())
        for user_id in users.values():
            set_email(db, user_id, "")
    finally:
        db.close()
    record_signed_agreement(home, "2026-11-27")
    time.sleep(4)  # several notifier passes with nobody to tell
    with sqlite3.connect(home.dashboard_db) as db:
        assert db.execute("SELECT count(*) FROM agreement_reminders").fetchone() == (0,)
    db = connect(home.dashboard_db)
    try:
        set_email(db, users["Dee"], "dsl@home.example")
    finally:
        db.close()
    assert wait_for(lambda: subjects(home, "dsl@home.example") == [DUE], timeout=10)
