"""Alert routing, quiet hours, content and secrets: the parts of delivery that are decisions."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from dashboard.alerts import routing
from dashboard.alerts.content import ILLEGAL_GUIDANCE, describe
from dashboard.alerts.settings import SecretError, read_secret
from dashboard.data import accounts, alert_outbox
from dashboard.data.db import connect
from filterd.db.events import Event
from filterd.rules.model import Device, Profile, Rules
from tests.support.dashboard_home import PASSWORD
from tests.support.wall_clock import london

LON = ZoneInfo("Europe/London")


@pytest.fixture
def db(tmp_path):
    connection = connect(tmp_path / "dashboard.db")
    yield connection
    connection.close()


def account(db, name: str, role: str, email: str) -> accounts.User:
    user = accounts.add_user(db, name, accounts.Role(role), PASSWORD)
    routing.set_email(db, user.id, email)
    return user


def test_roles_bound_what_each_account_receives_and_choices_work_within_them(db):
    account(db, "Dee", "safeguarding_lead", "dsl@home.example")
    admin = account(db, "Ash", "administrator", "admin@home.example")
    carer = account(db, "Cam", "carer", "carer@home.example")
    account(db, "Vi", "viewer", "viewer@home.example")
    account(db, "Nobody", "administrator", "")  # no address: nothing to send to
    assert routing.email_recipients(db, "block.illegal") == [
        "dsl@home.example",
        "admin@home.example",
    ]
    assert routing.email_recipients(db, "lists.stale") == ["admin@home.example"]
    assert routing.email_recipients(db, "device.new") == [], "carers choose new devices"

    routing.choose(db, carer.id, carer.role, ["device.new"])
    assert routing.email_recipients(db, "device.new") == ["carer@home.example"]
    with pytest.raises(ValueError, match="alerts your role receives"):
        routing.choose(db, carer.id, carer.role, ["block.high_risk"])
    routing.choose(db, admin.id, admin.role, [])  # an administrator who wants no email
    assert routing.email_recipients(db, "lists.stale") == []


def test_a_malformed_address_is_refused_in_plain_words(db):
    user = accounts.add_user(db, "Dee", accounts.Role.SAFEGUARDING_LEAD, PASSWORD)
    with pytest.raises(ValueError, match=r"should look like name@example\.org"):
        routing.set_email(db, user.id, "dee at home")


@pytest.mark.parametrize(
    ("when", "until"),
    [
        ("2026-11-23 23:00", "2026-11-24 07:00"),
        ("2026-11-24 06:59", "2026-11-24 07:00"),
        ("2026-11-24 07:00", None),
        ("2026-11-24 21:59", None),
        ("2026-03-28 23:30", "2026-03-29 07:00"),  # the night the clocks go forward
    ],
)
def test_quiet_hours_end_in_home_time(when, until):
    expected = None if until is None else london(until)
    assert alert_outbox.quiet_until(london(when), LON, 22 * 60, 7 * 60) == expected


def test_illegal_tier_and_self_harm_are_urgent_other_high_risk_may_wait():
    assert routing.urgent("block.illegal", ["illegal"])
    assert routing.urgent("block.high_risk", ["self_harm", "drugs"])
    assert not routing.urgent("block.high_risk", ["adult"])
    assert not routing.urgent("bypass.attempt", ["bypass"])


def test_an_illegal_tier_alert_says_what_to_do_and_no_more_than_it_needs():
    rules = Rules(
        LON,
        {"sam": Profile("sam", "Sam Taylor", "13_15", 0)},
        (Device("Sam's phone", "sam", ip="192.0.2.5"),),
        None,
    )
    event = Event(
        7,
        london("2026-11-23 23:05"),
        "filterd",
        "block.illegal",
        1,
        "critical",
        "sam",
        "192.0.2.5",
        {"query_id": 99, "name": "abuse.example", "categories": ["illegal"], "reason": "blocked"},
    )
    content = describe(event, rules, LON, "https://filterd.home.arpa")
    assert content["guidance"] == ILLEGAL_GUIDANCE and "Internet Watch" in ILLEGAL_GUIDANCE
    assert content["child"] == "Sam" and content["device"] == "Sam's phone"
    assert content["time"] == "23:05" and content["category"] == "illegal content"
    assert content["link"].endswith("#q99")
    assert "abuse.example" not in str(content) and "Taylor" not in str(content)


def test_a_secret_file_others_can_read_is_refused(tmp_path):
    secret = tmp_path / "smtp-password"
    secret.write_text("hunter2\n")
    secret.chmod(0o644)
    with pytest.raises(SecretError, match="chmod 600"):
        read_secret(secret)
    secret.chmod(0o600)
    assert read_secret(secret) == "hunter2"


def test_digests_fall_due_after_their_time_daily_and_on_mondays_weekly():
    from dashboard.alerts.digest import due_periods

    assert due_periods(london("2026-11-24 07:29"), LON, 7 * 60 + 30) == []
    (daily,) = due_periods(london("2026-11-24 07:30"), LON, 7 * 60 + 30)  # a Tuesday
    assert (daily.key, daily.label, daily.days) == (
        "daily:2026-11-23",
        "Mon 23 Nov",
        ["2026-11-23"],
    )
    assert daily.end - daily.start == 86_400
    keys = [p.key for p in due_periods(london("2026-11-23 09:00"), LON, 7 * 60 + 30)]  # a Monday
    assert keys == ["daily:2026-11-22", "weekly:2026-11-16"]


def test_the_monthly_evidence_report_falls_due_on_the_first():
    from dashboard.alerts.digest import due_periods

    periods = due_periods(london("2026-12-01 08:00"), LON, 7 * 60 + 30)  # a Tuesday
    monthly = [p for p in periods if p.kind == "digest.monthly"]
    assert [(p.key, p.label, len(p.days)) for p in monthly] == [
        ("monthly:2026-11-01", "November 2026", 30)
    ]
