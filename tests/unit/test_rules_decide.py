"""The pure decision: the precedence table row by row, when a situation next changes, and
wall-clock windows across the BST/GMT changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from filterd.dns.block_answers import EDE_BLOCKED, EDE_FILTERED
from filterd.dns.query import Reason
from filterd.lists.categories import mask_of
from filterd.lists.index import domain_to_wire
from filterd.lists.store import HELPLINE
from filterd.rules.decide import NO_CHANGE, OVERALL, decide, situation
from filterd.rules.model import ALL_DAYS, Limits, Override, OverrideKind, Profile, Window
from filterd.rules.schedule import next_reset, usage_day, window_edges, window_open

LON = ZoneInfo("Europe/London")
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> float:
    """An instant given as London wall-clock time."""
    return datetime(y, m, d, hh, mm, ss, tzinfo=LON).timestamp()


def utc(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> float:
    return datetime(y, m, d, hh, mm, tzinfo=UTC).timestamp()


def hm(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


ILLEGAL = mask_of(["illegal"])
ADULT = mask_of(["adult"])
SOCIAL = mask_of(["social"])
GAMING = mask_of(["gaming"])
STREAMING = mask_of(["streaming"])

NAME = domain_to_wire("site.example")
HOMEWORK = domain_to_wire("school.example")
FAVOURITE = domain_to_wire("fave.example")
BANNED = domain_to_wire("banned.example")
WWW_HOMEWORK = domain_to_wire("www.school.example")

SAT_DAY = at(2026, 11, 21, 14, 0)  # Saturday afternoon, nothing scheduled
SAT_SOCIAL = at(2026, 11, 21, 11, 0)  # inside the Saturday 10:00-12:00 social window
SAT_NIGHT = at(2026, 11, 21, 22, 30)  # inside bedtime
LATER = at(2026, 11, 21, 23, 59)  # overrides that are still in force
EARLIER = at(2026, 11, 21, 9, 0)  # overrides that have expired at every time above

BASE = Profile(
    id="sam",
    name="Sam",
    age_band="9_12",
    block_mask=ILLEGAL | ADULT | SOCIAL,
    allow=frozenset({FAVOURITE}),
    deny=frozenset({BANNED}),
    always_allow=frozenset({HOMEWORK}),
    offline=(Window(ALL_DAYS, hm("21:00"), hm("07:00")),),
    allowed_during=(Window(frozenset({SAT}), hm("10:00"), hm("12:00"), SOCIAL),),
)
LIMITS = Limits(180, {"gaming": 120, "streaming": 90}, hm("04:00"))
PAUSE = Override(OverrideKind.PAUSE, LATER)
LIFT = Override(OverrideKind.LIFT_BEDTIME, LATER)
OLD_LIFT = Override(OverrideKind.LIFT_BEDTIME, EARLIER)
FOREVER = Override(OverrideKind.PAUSE, None)


def extra(minutes: int, category: str | None = None, until: float = LATER) -> Override:
    return Override(OverrideKind.EXTRA_TIME, until, minutes, category)


ALLOWED = (False, Reason.FORWARDED, "")
PAUSED = (True, Reason.PAUSED, "paused by a carer")
OFFLINE = (True, Reason.OFFLINE, "offline time")
DENIED = (True, Reason.DENIED, "on this child's deny list")
WALLED = (True, Reason.WALLED_GARDEN, "not on the allowed list")
LIMIT = (True, Reason.LIMIT, "daily limit reached")
GAMING_LIMIT = (True, Reason.LIMIT, "daily limit reached: gaming")
STREAMING_LIMIT = (True, Reason.LIMIT, "daily limit reached: streaming")
ADULT_BLOCKED = (True, Reason.BLOCKED, "blocked: adult")
SOCIAL_BLOCKED = (True, Reason.BLOCKED, "blocked: social")
HELPED = (False, Reason.HELPLINE, "")
FLOORED = (True, Reason.BLOCKED, "blocked: illegal")
GAMING_FLOORED = (True, Reason.BLOCKED, "blocked: gaming")

SPENT = {OVERALL: 180, "gaming": 120, "streaming": 90}


def case(description, expected, name=NAME, mask=0, now=SAT_DAY, floor=0, usage=None, **changes):
    """One row: what is set up, the name asked and its categories, and the verdict expected."""
    return pytest.param(
        replace(BASE, **changes), usage or {}, now, name, mask, floor, expected, id=description
    )


P = (PAUSE,)
TABLE = [
    case("otherwise allowed", ALLOWED),
    case("helpline beats floor", HELPED, mask=HELPLINE | GAMING, floor=ILLEGAL | GAMING),
    case("illegal beats helpline", FLOORED, mask=HELPLINE | ILLEGAL, floor=ILLEGAL),
    case(
        "helpline beats pause, offline, deny, walled garden and limits",
        HELPED,
        BANNED,
        HELPLINE | ADULT,
        SAT_NIGHT,
        usage=SPENT,
        overrides=P,
        walled_garden=True,
        limits=LIMITS,
    ),
    case("floor beats always_allow", FLOORED, HOMEWORK, ILLEGAL, floor=ILLEGAL),
    case("floor beats allow", FLOORED, FAVOURITE, ILLEGAL, floor=ILLEGAL),
    case(
        "floor blocks a category the child would allow", GAMING_FLOORED, mask=GAMING, floor=GAMING
    ),
    case("always_allow beats pause", ALLOWED, HOMEWORK, overrides=P),
    case("always_allow beats offline", ALLOWED, HOMEWORK, now=SAT_NIGHT),
    case("always_allow beats the child's category", ALLOWED, HOMEWORK, ADULT),
    case("always_allow covers subdomains", ALLOWED, WWW_HOMEWORK, overrides=P),
    case("pause beats offline", PAUSED, now=SAT_NIGHT, overrides=P),
    case("pause beats allow", PAUSED, FAVOURITE, overrides=P),
    case("pause without until is in force", PAUSED, overrides=(FOREVER,)),
    case("expired pause is ignored", ALLOWED, overrides=(Override(OverrideKind.PAUSE, EARLIER),)),
    case("offline beats deny", OFFLINE, BANNED, now=SAT_NIGHT),
    case("offline beats allow", OFFLINE, FAVOURITE, now=SAT_NIGHT),
    case("lift_bedtime lifts offline", ALLOWED, now=SAT_NIGHT, overrides=(LIFT,)),
    case("lift_bedtime does not lift pause", PAUSED, now=SAT_NIGHT, overrides=(LIFT, PAUSE)),
    case("expired lift_bedtime is ignored", OFFLINE, now=SAT_NIGHT, overrides=(OLD_LIFT,)),
    case("deny beats allow", DENIED, BANNED, allow=frozenset({BANNED})),
    case("deny covers subdomains", DENIED, domain_to_wire("a.b.banned.example")),
    case("allow beats walled garden", ALLOWED, FAVOURITE, walled_garden=True),
    case("allow beats the child's category", ALLOWED, FAVOURITE, ADULT),
    case("allow beats a spent limit", ALLOWED, FAVOURITE, GAMING, usage=SPENT, limits=LIMITS),
    case("walled garden blocks an uncategorised name", WALLED, walled_garden=True),
    case("walled garden beats the child's category", WALLED, mask=ADULT, walled_garden=True),
    case("child's category is blocked", ADULT_BLOCKED, mask=ADULT),
    case(
        "child's category beats a spent limit",
        ADULT_BLOCKED,
        mask=ADULT,
        usage=SPENT,
        limits=LIMITS,
    ),
    case(
        "allowed_during opens its category inside the window", ALLOWED, mask=SOCIAL, now=SAT_SOCIAL
    ),
    case("allowed_during is shut outside the window", SOCIAL_BLOCKED, mask=SOCIAL),
    case(
        "allowed_during opens only its own category",
        ADULT_BLOCKED,
        mask=SOCIAL | ADULT,
        now=SAT_SOCIAL,
    ),
    case(
        "allowed_during does not lift a spent limit",
        LIMIT,
        mask=SOCIAL,
        now=SAT_SOCIAL,
        usage=SPENT,
        limits=LIMITS,
    ),
    case(
        "spent overall limit blocks an uncategorised name",
        LIMIT,
        usage={OVERALL: 180},
        limits=LIMITS,
    ),
    case("overall limit not yet spent", ALLOWED, usage={OVERALL: 179}, limits=LIMITS),
    case("overall limit beats category limit", LIMIT, mask=GAMING, usage=SPENT, limits=LIMITS),
    case(
        "category limit blocks that category",
        GAMING_LIMIT,
        mask=GAMING,
        usage={"gaming": 120},
        limits=LIMITS,
    ),
    case(
        "category limit leaves other categories",
        ALLOWED,
        mask=STREAMING,
        usage={"gaming": 120},
        limits=LIMITS,
    ),
    case(
        "category limit leaves uncategorised names", ALLOWED, usage={"gaming": 120}, limits=LIMITS
    ),
    case(
        "extra_time lifts the overall limit",
        ALLOWED,
        usage={OVERALL: 200},
        limits=LIMITS,
        overrides=(extra(30),),
    ),
    case(
        "extra_time lifts every category limit",
        ALLOWED,
        mask=STREAMING,
        usage={"streaming": 100},
        limits=LIMITS,
        overrides=(extra(30),),
    ),
    case(
        "extra_time runs out too",
        LIMIT,
        usage={OVERALL: 210},
        limits=LIMITS,
        overrides=(extra(30),),
    ),
    case(
        "category extra_time lifts that category",
        ALLOWED,
        mask=GAMING,
        usage={"gaming": 120},
        limits=LIMITS,
        overrides=(extra(30, "gaming"),),
    ),
    case(
        "category extra_time leaves other categories",
        STREAMING_LIMIT,
        mask=STREAMING,
        usage={"streaming": 90},
        limits=LIMITS,
        overrides=(extra(30, "gaming"),),
    ),
    case(
        "category extra_time extends the overall limit too",
        ALLOWED,
        mask=GAMING,
        usage={OVERALL: 180},
        limits=LIMITS,
        overrides=(extra(30, "gaming"),),
    ),
    case(
        "expired extra_time is ignored",
        LIMIT,
        usage={OVERALL: 180},
        limits=LIMITS,
        overrides=(extra(30, until=EARLIER),),
    ),
]


@pytest.mark.parametrize(("profile", "usage", "now", "name", "mask", "floor", "expected"), TABLE)
def test_precedence(profile, usage, now, name, mask, floor, expected):
    verdict = decide(name, mask, profile, usage, now, LON, floor)
    assert (verdict.blocked, verdict.reason, verdict.text) == expected


def test_floor_answers_with_ede_blocked_and_the_child_with_ede_filtered():
    floor = decide(NAME, ILLEGAL, BASE, {}, SAT_DAY, LON, ILLEGAL)
    child = decide(NAME, ADULT, BASE, {}, SAT_DAY, LON, ILLEGAL)
    assert (floor.ede, child.ede) == (EDE_BLOCKED, EDE_FILTERED)


def test_always_allow_and_helplines_are_not_screen_time():
    assert decide(HOMEWORK, 0, BASE, {}, SAT_DAY, LON, 0).counts is False
    assert decide(NAME, HELPLINE, BASE, {}, SAT_DAY, LON, 0).counts is False
    assert decide(NAME, 0, BASE, {}, SAT_DAY, LON, 0).counts is True


# Situation.until: the next instant anything in force changes by itself

PLAIN = replace(BASE, allowed_during=(), offline=())


def test_until_is_bedtime_ten_seconds_before_it():
    now = at(2026, 11, 21, 20, 59, 50)
    found = situation(BASE, {}, now, LON)
    assert found.offline is False
    assert found.until == at(2026, 11, 21, 21, 0)
    assert int(found.until - now) == 10


def test_until_is_the_end_of_bedtime_during_it():
    found = situation(BASE, {}, SAT_NIGHT, LON)
    assert found.offline is True
    assert found.until == at(2026, 11, 22, 7, 0)


def test_until_is_an_override_expiry():
    found = situation(replace(PLAIN, overrides=(PAUSE,)), {}, SAT_DAY, LON)
    assert found.until == LATER


def test_until_ignores_an_expired_override():
    stale = Override(OverrideKind.PAUSE, EARLIER)
    found = situation(replace(PLAIN, overrides=(stale,)), {}, SAT_DAY, LON)
    assert found.until == SAT_DAY + NO_CHANGE


def test_until_is_the_next_reset_with_limits():
    found = situation(replace(PLAIN, limits=LIMITS), {}, SAT_DAY, LON)
    assert found.until == at(2026, 11, 22, 4, 0)


def test_until_is_a_week_away_when_nothing_is_scheduled():
    assert situation(PLAIN, {}, SAT_DAY, LON).until == SAT_DAY + NO_CHANGE


def test_until_is_the_allowed_during_window_opening():
    found = situation(BASE, {}, at(2026, 11, 21, 9, 30), LON)
    assert found.until == at(2026, 11, 21, 10, 0)


# BST and GMT: windows follow the wall clock

NIGHTLY = Window(ALL_DAYS, hm("21:00"), hm("07:00"))


def test_bedtime_on_the_last_bst_saturday_is_20_utc():
    profile = replace(PLAIN, offline=(NIGHTLY,))
    assert at(2026, 10, 24, 21, 0) == utc(2026, 10, 24, 20, 0)
    assert situation(profile, {}, utc(2026, 10, 24, 19, 59), LON).offline is False
    assert situation(profile, {}, utc(2026, 10, 24, 20, 0), LON).offline is True


def test_bedtime_on_the_first_gmt_sunday_is_21_utc():
    profile = replace(PLAIN, offline=(NIGHTLY,))
    assert situation(profile, {}, utc(2026, 10, 25, 20, 59), LON).offline is False
    assert situation(profile, {}, utc(2026, 10, 25, 21, 0), LON).offline is True


def test_window_edges_across_the_october_change_are_exact():
    edges = set(window_edges(NIGHTLY, at(2026, 10, 24, 12, 0), LON))
    assert utc(2026, 10, 24, 20, 0) in edges  # Saturday 21:00 BST
    assert utc(2026, 10, 25, 7, 0) in edges  # Sunday 07:00 GMT: the night lasted 11 hours
    assert utc(2026, 10, 25, 21, 0) in edges  # Sunday 21:00 GMT
    assert utc(2026, 10, 25, 6, 0) not in edges


def first_change(profile, start: float) -> float:
    """Follow Situation.until (as the daemon does) to the first instant offline flips."""
    now = start
    offline = situation(profile, {}, now, LON).offline
    for _ in range(10):
        now = situation(profile, {}, now, LON).until
        if situation(profile, {}, now, LON).offline != offline:
            return now
    raise AssertionError("offline never changed")


def test_overnight_window_across_the_october_change_ends_at_7_gmt():
    profile = replace(PLAIN, offline=(NIGHTLY,))
    found = situation(profile, {}, utc(2026, 10, 24, 23, 0), LON)
    assert found.offline is True
    assert first_change(profile, utc(2026, 10, 24, 23, 0)) == utc(2026, 10, 25, 7, 0)
    assert situation(profile, {}, utc(2026, 10, 25, 6, 59), LON).offline is True
    assert situation(profile, {}, utc(2026, 10, 25, 7, 0), LON).offline is False


def test_window_edges_across_the_march_change_are_exact():
    edges = set(window_edges(NIGHTLY, at(2026, 3, 28, 12, 0), LON))
    assert utc(2026, 3, 28, 21, 0) in edges  # Saturday 21:00 GMT
    assert utc(2026, 3, 29, 6, 0) in edges  # Sunday 07:00 BST: the night lasted 9 hours
    assert utc(2026, 3, 29, 20, 0) in edges  # Sunday 21:00 BST


def test_overnight_window_across_the_march_change_ends_at_7_bst():
    profile = replace(PLAIN, offline=(NIGHTLY,))
    assert first_change(profile, utc(2026, 3, 28, 23, 0)) == utc(2026, 3, 29, 6, 0)
    assert situation(profile, {}, utc(2026, 3, 29, 5, 59), LON).offline is True
    assert situation(profile, {}, utc(2026, 3, 29, 6, 0), LON).offline is False


def test_next_reset_across_the_october_change_is_4_gmt():
    assert next_reset(at(2026, 10, 24, 12, 0), hm("04:00"), LON) == utc(2026, 10, 25, 4, 0)


def test_usage_day_before_the_reset_is_the_previous_day():
    assert usage_day(at(2026, 11, 22, 3, 59), hm("04:00"), LON) == "2026-11-21"
    assert usage_day(at(2026, 11, 22, 4, 0), hm("04:00"), LON) == "2026-11-22"


def test_usage_day_with_midnight_reset_is_the_calendar_day():
    assert usage_day(at(2026, 11, 22, 0, 0), 0, LON) == date(2026, 11, 22).isoformat()


# Overnight windows: `days` names the day the window starts

FRIDAY_NIGHT = Window(frozenset({FRI}), hm("22:00"), hm("07:00"))


def test_friday_night_window_is_open_saturday_morning_until_7():
    assert window_open(FRIDAY_NIGHT, SAT, hm("06:59")) is True
    assert window_open(FRIDAY_NIGHT, SAT, hm("07:00")) is False


def test_friday_night_window_is_closed_friday_morning():
    assert window_open(FRIDAY_NIGHT, FRI, hm("06:00")) is False
    assert window_open(FRIDAY_NIGHT, FRI, hm("21:59")) is False
    assert window_open(FRIDAY_NIGHT, FRI, hm("22:00")) is True


def test_daytime_window_includes_start_and_excludes_end():
    window = Window(frozenset({SAT}), hm("10:00"), hm("12:00"))
    assert [window_open(window, SAT, hm(t)) for t in ("09:59", "10:00", "11:59", "12:00")] == [
        False,
        True,
        True,
        False,
    ]
    assert window_open(window, SUN, hm("11:00")) is False


def test_start_equal_to_end_at_midnight_is_the_whole_named_day():
    window = Window(frozenset({MON}), 0, 0)
    assert window_open(window, MON, 0) is True
    assert window_open(window, MON, hm("23:59")) is True
    assert window_open(window, TUE, 0) is False
    assert window_open(window, SUN, hm("23:59")) is False


def test_start_equal_to_end_is_24_hours_from_the_start():
    window = Window(frozenset({MON}), hm("10:00"), hm("10:00"))
    assert window_open(window, MON, hm("10:00")) is True
    assert window_open(window, TUE, hm("09:59")) is True
    assert window_open(window, TUE, hm("10:00")) is False
    assert window_open(window, MON, hm("09:59")) is False


def test_whole_day_window_edges_are_its_midnights():
    window = Window(frozenset({MON}), 0, 0)
    edges = set(window_edges(window, at(2026, 11, 23, 12, 0), LON))  # a Monday
    assert {at(2026, 11, 23), at(2026, 11, 24)} <= edges


# Edges that fall in the hour the clocks skip or repeat

LATE = Window(frozenset({SAT}), hm("22:00"), hm("01:30"))  # Saturday night to Sunday 01:30


def test_until_before_spring_forward_is_no_later_than_the_window_closing():
    profile = replace(PLAIN, offline=(LATE,))
    before = situation(profile, {}, utc(2026, 3, 29, 0, 59), LON)
    after = situation(profile, {}, utc(2026, 3, 29, 1, 0), LON)
    assert before.offline != after.offline
    assert before.until <= utc(2026, 3, 29, 1, 0)


def test_until_in_the_repeated_autumn_hour_is_no_later_than_the_window_closing():
    profile = replace(PLAIN, offline=(LATE,))
    inside = situation(profile, {}, utc(2026, 10, 25, 1, 0), LON)
    after = situation(profile, {}, utc(2026, 10, 25, 1, 30), LON)
    assert inside.offline == after.offline or inside.until <= utc(2026, 10, 25, 1, 30)
