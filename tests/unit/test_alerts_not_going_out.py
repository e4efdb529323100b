"""Health says when alerts are not going out, why in plain words and since when; the home
page's banner says it too while a high-risk or illegal alert has waited over five minutes.
Real SQLite (dashboard.db with its migrations) and the senders' own failures: a closed SMTP
port and a webhook secret file other users can read."""

from __future__ import annotations

import smtplib
import time
from zoneinfo import ZoneInfo

import pytest

from dashboard.alerts.settings import SecretError, read_secret
from dashboard.data import alert_outbox
from dashboard.data.db import connect
from dashboard.data.health_checks import Clock, alerts_check
from tests.support.filterd_process import free_port

LONDON = ZoneInfo("Europe/London")


def smtp_failure() -> str:
    """What sending to an SMTP server that is down really raises."""
    try:
        smtplib.SMTP("127.0.0.1", free_port(), timeout=2)
    except OSError as err:
        return str(err)
    raise AssertionError("nothing should listen there")


def secret_failure(tmp_path) -> str:
    secret = tmp_path / "hook-secret"
    secret.write_text("key\n")
    secret.chmod(0o644)
    with pytest.raises(SecretError) as refused:
        read_secret(secret)
    return str(refused.value)


def failed_alert(db, channel: str, kind: str, due: float, error: str) -> None:
    route = alert_outbox.Route(channel, "dsl@home.example" if channel == "email" else "https://h/x")
    alert_outbox.queue(db, route, f"{kind}|sam|self_harm", 1, due, {"title": "t"}, 1800.0, None)
    (alert_id,) = db.execute("SELECT max(id) FROM alerts").fetchone()
    alert_outbox.mark_failed(db, [alert_id], due + 1, error)


def test_health_says_the_email_server_cannot_be_reached_and_since_when(tmp_path):
    db = connect(tmp_path / "dashboard.db")
    now = time.time()
    assert alerts_check(alert_outbox.stuck(db), Clock(LONDON, now)).ok
    failed_alert(db, "email", "block.high_risk", now - 120, smtp_failure())
    check = alerts_check(alert_outbox.stuck(db), Clock(LONDON, now))
    assert check.state == "problem"
    assert "Not going out: 1 alert could not be sent" in check.said
    assert "2 minutes ago" in check.said
    assert "The email server could not be reached." in check.said
    assert "Errno" not in check.said and "refused" not in check.said.lower()
    assert not check.stops_filtering, "two minutes: Health only, not yet the home page"

    later = alerts_check(alert_outbox.stuck(db), Clock(LONDON, now + 10 * 60))
    assert later.stops_filtering and "high-risk or illegal-content alert" in later.said


def test_a_refused_webhook_secret_file_is_said_in_plain_words(tmp_path):
    db = connect(tmp_path / "dashboard.db")
    now = time.time()
    failed_alert(db, "webhook", "upstream.all_failing", now - 3600, secret_failure(tmp_path))
    check = alerts_check(alert_outbox.stuck(db), Clock(LONDON, now))
    assert check.state == "problem" and "1 hour ago" in check.said
    assert "secret file is refused because other users on the box can read it" in check.said
    assert "chmod" not in check.said and str(tmp_path) not in check.said
    assert not check.stops_filtering, "not a child's safety alert: Health, not the banner"


def test_the_home_page_banner_and_health_say_alerts_are_not_going_out(tmp_path, signed_in):
    client = signed_in("Vi", "viewer")
    assert "Not going out" not in client.get("/health").get_data(as_text=True)
    db = connect(tmp_path / "dashboard.db")
    failed_alert(db, "email", "block.illegal", time.time() - 600, smtp_failure())
    db.close()
    health = client.get("/health").get_data(as_text=True)
    assert "Alerts (email and webhooks)" in health
    assert "Not going out: 1 alert could not be sent" in health
    home = client.get("/").get_data(as_text=True)
    assert 'id="health-banner"' in home and "The email server could not be reached." in home


def test_email_and_webhook_failing_at_once_are_both_said(tmp_path):
    db = connect(tmp_path / "dashboard.db")
    now = time.time()
    failed_alert(db, "email", "block.high_risk", now - 300, smtp_failure())
    failed_alert(db, "webhook", "block.high_risk", now - 200, secret_failure(tmp_path))
    check = alerts_check(alert_outbox.stuck(db), Clock(LONDON, now))
    assert "2 alerts could not be sent" in check.said and "5 minutes ago" in check.said
    assert "The email server could not be reached." in check.said
    assert "secret file is refused" in check.said
