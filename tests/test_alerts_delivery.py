"""Alerts that reach a person, with real parts: filterd, the dashboard's notifier, a real SMTP
server process and a real HTTP receiver that checks each webhook's signature.

The wall clock of filterd and the dashboard is moved through $FILTERD_CLOCK_FILE, so quiet
hours and grouping windows are crossed in seconds.
"""

from __future__ import annotations

import http.client
import io
import json
import re
import sqlite3
import time
from urllib.parse import urlencode

import yaml
from pypdf import PdfReader

from dashboard.alerts.routing import choose
from dashboard.data import accounts
from dashboard.data.db import connect
from filterd.rules.guards import with_end_line
from tests.support.alerts_home import AlertsHome
from tests.support.events import SAM, ask
from tests.support.filterd_process import wait_for
from tests.support.mail_receiver import plain_text_of


def test_self_harm_at_23_00_in_quiet_hours_reaches_the_dsl_at_once_then_groups(make_alerts_home):
    home = make_alerts_home("2026-11-23 23:00")
    assert ask(home.filterd.port, "harm0.example") is not None
    assert wait_for(lambda: len(home.mail_to("dsl@home.example")) == 1, timeout=20)

    (mail,) = home.mail_to("dsl@home.example")
    assert mail["Subject"] == "Sam: self-harm site blocked"
    body = plain_text_of(mail)
    assert "23:00" in body and "Sam's phone" in body
    link = re.search(r"https://filterd\.home\.arpa/blocked/\?\S+", body)[0]
    assert "child=sam" in link and "category=self_harm" in link and "#q" in link
    assert "Taylor" not in body and "harm0.example" not in body, "the least: no surname, no site"
    assert mail.get_body(("html",)) is not None, "an HTML part beside the plain text"
    assert home.mail_to("carer@home.example") == [], "carers do not get high-risk alerts"

    assert wait_for(lambda: len(home.hook.deliveries()) == 1, timeout=20)
    (delivery,) = home.hook.deliveries()
    assert delivery["valid"], "the webhook's HMAC-SHA256 signature checks out"
    assert '"child": "Sam"' in delivery["body"] and '"category": "self-harm"' in delivery["body"]

    # Ten more attempts in the next minutes: no more messages now, one grouped later.
    for i in range(1, 11):
        assert ask(home.filterd.port, f"harm{i}.example") is not None
    assert ask(home.filterd.port, "adult.example") is not None  # high risk, but may wait
    time.sleep(4)
    assert len(home.mail_to("dsl@home.example")) == 1
    assert len(home.hook.deliveries()) == 1
    assert ("dsl@home.example", 10, 0, "pending", 0) in home.alerts()

    # Half an hour on: the follow-up goes, with its count; the adult-site block waits for 07:00.
    home.set_time("2026-11-23 23:31")
    assert wait_for(lambda: len(home.mail_to("dsl@home.example")) == 2, timeout=20)
    follow_up = home.mail_to("dsl@home.example")[1]
    assert follow_up["Subject"] == "Sam: self-harm site blocked: 10 more times"
    home.set_time("2026-11-24 07:01")
    assert wait_for(lambda: len(home.mail_to("dsl@home.example")) == 3, timeout=20)
    morning = home.mail_to("dsl@home.example")[2]
    assert morning["Subject"] == "Overnight: 1 alert held in quiet hours"
    assert "Sam: adult site blocked" in plain_text_of(morning)
    assert all(d["valid"] for d in home.hook.deliveries())

    # 07:30: the daily digest of Monday, HTML with a plain-text part, to the DSL only.
    home.set_time("2026-11-24 07:31")
    daily = "Daily summary: Mon 23 Nov"
    assert wait_for(
        lambda: any(m["Subject"] == daily for m in home.digests_to("dsl@home.example")), 8
    )
    digest = next(m for m in home.digests_to("dsl@home.example") if m["Subject"] == daily)
    plain = plain_text_of(digest)
    assert "Sam: online" in plain and "high-risk blocks: 12, reviewed: 0" in plain
    assert "blocked self-harm: 11" in plain and "blocked adult: 1" in plain
    assert "Audit trail: intact (" in plain
    page = digest.get_body(("html",)).get_content()
    assert 'bgcolor="#0b5cad"' in page and "<script" not in page, "bars drawn as table cells"
    assert home.digests_to("carer@home.example") == []

    # The 1st of the month: November's evidence report, the PDF attached.
    home.set_time("2026-12-01 07:31")
    subject = "Evidence report: November 2026"
    assert wait_for(
        lambda: any(m["Subject"] == subject for m in home.digests_to("dsl@home.example")), 15
    )
    report = next(m for m in home.digests_to("dsl@home.example") if m["Subject"] == subject)
    (pdf,) = [part for part in report.iter_attachments()]
    assert pdf.get_filename() == "evidence-2026-11.pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.get_content())).pages)
    assert "Filtering and monitoring evidence: November 2026" in " ".join(text.split())


def test_smtp_down_then_back_with_a_dashboard_restart_between_delivers_exactly_once(
    make_alerts_home,
):
    home = make_alerts_home("2026-11-23 16:00", smtp_running=False)
    assert ask(home.filterd.port, "harm0.example") is not None
    assert wait_for(lambda: any(a[4] >= 1 for a in home.alerts()), timeout=20), "a failed try"
    assert home.alerts()[0][3] == "pending"

    home.dashboard.stop()  # the dashboard restarts while the message is still owed
    home.smtp.start()
    home.dashboard = home.start_dashboard()

    assert wait_for(lambda: len(home.mail_to("dsl@home.example")) == 1, timeout=30)
    time.sleep(3)
    assert len(home.mail_to("dsl@home.example")) == 1, "exactly once"
    sent = [a for a in home.alerts() if a[0] == "dsl@home.example"]
    assert [(a[3], a[4] >= 1) for a in sent] == [("sent", True)]


def ask_for_access(home: AlertsHome, site: str, message: str) -> int:
    """Sam's device posts the block page's ask-for-access form, as its browser does."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", home.http_port, timeout=10, source_address=(SAM, 0)
    )
    body = urlencode({"message": message})
    headers = {"Host": site, "Content-Type": "application/x-www-form-urlencoded"}
    connection.request("POST", "/", body=body, headers=headers)
    status = connection.getresponse().status
    connection.close()
    return status


def test_carers_get_access_requests_and_spent_limits_only_when_they_chose_them(make_alerts_home):
    home = make_alerts_home(
        "2026-11-23 16:00", block_categories=["social"], limits={"gaming": "1m"}
    )
    db = connect(home.dashboard_db)
    cam = next(u for u in accounts.listing(db) if u.name == "Cam")
    choose(db, cam.id, accounts.Role.CARER, ["access.requested", "limit.spent"])
    db.close()

    assert ask(home.filterd.port, "harm0.example") is not None  # history the carer never sees
    assert ask(home.filterd.port, "social.example") is not None
    time.sleep(1.5)  # the query log is written within a second; the block page reads it
    assert ask_for_access(home, "social.example", "for my homework") == 303

    assert wait_for(lambda: len(home.mail_to("carer@home.example")) == 1, timeout=20)
    (mail,) = home.mail_to("carer@home.example")
    assert mail["Subject"] == "Sam asked for access to a blocked site"
    body = plain_text_of(mail)
    assert "16:00" in body and "Sam's phone" in body
    assert "https://filterd.home.arpa/#access-requests" in body
    assert "harm0.example" not in body and "self-harm" not in body, "never the child's history"
    assert "Taylor" not in body

    # One minute of gaming spends Sam's gaming limit: raised once, however often Sam asks.
    assert ask(home.filterd.port, "game.example") is not None
    assert wait_for(lambda: len(home.mail_to("carer@home.example")) == 2, timeout=20)
    spent = home.mail_to("carer@home.example")[1]
    assert spent["Subject"] == "Sam's daily gaming time is used up"
    assert "https://filterd.home.arpa/children/sam" in plain_text_of(spent)
    home.filterd.stop()
    home.filterd.start(env=home.env)
    for _ in range(3):
        assert ask(home.filterd.port, "game.example") is not None
    time.sleep(5)
    with sqlite3.connect(home.filterd.db_path) as log:
        raised = log.execute("SELECT child, data FROM events WHERE kind = 'limit.spent'")
        assert [(child, json.loads(data)["limit"]) for child, data in raised] == [
            ("sam", "gaming")
        ], "once per child, limit and day, a restart included"
    assert len(home.mail_to("carer@home.example")) == 2

    assert home.mail_to("bo@home.example") == [], "a carer who did not choose gets nothing"
    assert not any(
        m["Subject"].startswith(("Sam asked", "Sam's daily"))
        for m in home.mail_to("dsl@home.example")
    )


def test_a_hand_edit_unblocking_self_harm_at_night_goes_at_once_naming_child_and_what(
    make_alerts_home,
):
    """At 23:00, in quiet hours, someone edits the rules file by hand and unblocks self-harm
    for Sam: that goes to the DSL at once (like a self-harm alert), saying whose protection
    and what was loosened, not only 'the rules file was changed' the next morning."""
    home = make_alerts_home("2026-11-23 23:00")
    rules = home.tmp_path / "rules.yaml"
    data = yaml.safe_load(rules.read_text())
    data.pop("end_of_rules", None)  # the guard line: with_end_line writes it again
    data["children"]["sam"]["block_categories"] = ["adult", "gambling"]
    temporary = rules.with_suffix(".tmp")
    temporary.write_text(with_end_line(yaml.safe_dump(data)))
    temporary.replace(rules)

    def hand_edit_mail() -> list:
        return [
            m for m in home.mail_to("dsl@home.example") if "outside the dashboard" in m["Subject"]
        ]

    assert wait_for(lambda: len(hand_edit_mail()) == 1, timeout=20), home.alerts()
    (mail,) = hand_edit_mail()
    assert "self-harm no longer blocked for Sam" in mail["Subject"]
    assert "Taylor" not in mail["Subject"], "first name only, as every alert"
    assert "Overnight" not in mail["Subject"], "not held for the morning summary"
