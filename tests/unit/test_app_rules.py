"""Apps in a child's rules: the rules file's `services`, allowed_during and limits by app, and
the precedence rows 9a-9e of filterd.rules.decide, table-tested against the categories' rows."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from filterd.catalogue.load import load_catalogue
from filterd.dns.block_answers import EDE_BLOCKED
from filterd.dns.query import Reason
from filterd.lists.categories import mask_of
from filterd.lists.index import domain_to_wire
from filterd.rules.decide import OVERALL, decide
from filterd.rules.guards import with_end_line
from filterd.rules.model import ALL_DAYS, Limits, Override, OverrideKind, Profile, Window
from filterd.rules.parse import RulesError, parse_rules_file
from filterd.rules.presets import PRESETS
from filterd.rules.usage import UsageTracker

LON = ZoneInfo("Europe/London")
CATALOGUE = load_catalogue()
TIKTOK = CATALOGUE.services["tiktok"]
YOUTUBE = CATALOGUE.services["youtube"]
ROBLOX = CATALOGUE.services["roblox"]
SOCIAL, STREAMING, GAMING = (mask_of([c]) for c in ("social", "streaming", "gaming"))
SAT_11 = datetime(2026, 11, 28, 11, 0, tzinfo=LON).timestamp()
SAT_12 = datetime(2026, 11, 28, 12, 0, tzinfo=LON).timestamp()
SATURDAY_MORNING = Window(frozenset({5}), 600, 720, 0, frozenset({"roblox"}))
SAM = Profile("sam", "Sam", "13_15", block_mask=PRESETS["13_15"].block_mask)


def verdict(profile, service, usage=None, now=SAT_11, floor=0, name=None):
    """The verdict for one of the app's names, its category bit added as the policy stage does."""
    qname = domain_to_wire(name or service.domains[0])
    return decide(qname, service.mask, profile, usage or {}, now, LON, floor, service)


ROWS = [
    # (why, profile changes, service, usage, now, blocked, reason, text)
    ("app blocked, its category allowed", {"services": {"tiktok": "blocked"}}, TIKTOK, {},
     SAT_11, True, Reason.BLOCKED, "blocked: TikTok"),
    ("category blocked by the preset names the app", {"block_mask": SOCIAL}, TIKTOK, {},
     SAT_11, True, Reason.BLOCKED, "blocked: TikTok (social)"),
    ("app allowed wins over its blocked category", {"block_mask": SOCIAL,
     "services": {"tiktok": "allowed"}}, TIKTOK, {}, SAT_11, False, Reason.FORWARDED, ""),
    ("app allowed wins over its category's spent limit", {"services": {"youtube": "allowed"},
     "limits": Limits(None, {"streaming": 30})}, YOUTUBE, {"streaming": 30}, SAT_11, False,
     Reason.FORWARDED, ""),
    ("category limit spent, no choice for the app", {"limits": Limits(None, {"streaming": 30})},
     YOUTUBE, {"streaming": 30}, SAT_11, True, Reason.LIMIT, "daily limit reached: streaming"),
    ("app inside its window, its category blocked", {"block_mask": GAMING,
     "allowed_during": (SATURDAY_MORNING,)}, ROBLOX, {}, SAT_11, False, Reason.FORWARDED, ""),
    ("app outside its window", {"allowed_during": (SATURDAY_MORNING,)}, ROBLOX, {}, SAT_12,
     True, Reason.BLOCKED, "blocked: Roblox (outside its allowed times)"),
    ("app limit spent", {"limits": Limits(None, {}, 0, {"youtube": 1})}, YOUTUBE,
     {"youtube": 1}, SAT_11, True, Reason.LIMIT, "daily limit reached: YouTube"),
    ("app limit not spent", {"limits": Limits(None, {}, 0, {"youtube": 60})}, YOUTUBE,
     {"youtube": 59}, SAT_11, False, Reason.FORWARDED, ""),
    ("overall limit still applies to an allowed app", {"services": {"youtube": "allowed"},
     "limits": Limits(60)}, YOUTUBE, {OVERALL: 60}, SAT_11, True, Reason.LIMIT,
     "daily limit reached"),
    ("a pause is above every app row", {"services": {"youtube": "allowed"},
     "overrides": (Override(OverrideKind.PAUSE, None),)}, YOUTUBE, {}, SAT_11, True,
     Reason.PAUSED, "paused by a carer"),
    ("bedtime is above every app row", {"services": {"youtube": "allowed"},
     "offline": (Window(ALL_DAYS, 600, 720),)}, YOUTUBE, {}, SAT_11, True, Reason.OFFLINE,
     "offline time"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("why", "changes", "service", "usage", "now", "is_blocked", "reason", "text"),
    ROWS,
    ids=[row[0] for row in ROWS],
)
def test_app_rows_of_the_precedence_table(
    why, changes, service, usage, now, is_blocked, reason, text
):
    found = verdict(replace(SAM, **changes), service, usage, now)
    assert (found.blocked, found.reason, found.text) == (is_blocked, reason, text)


def test_deny_and_allow_lists_win_over_an_apps_choice():
    profile = replace(
        SAM,
        services={"tiktok": "allowed", "youtube": "blocked"},
        deny=frozenset({domain_to_wire("tiktok.com")}),
        allow=frozenset({domain_to_wire("youtube.com")}),
    )
    assert verdict(profile, TIKTOK).reason is Reason.DENIED
    assert not verdict(profile, YOUTUBE, name="www.youtube.com").blocked


def test_the_household_floor_wins_over_a_carers_choice_for_an_app():
    profile = replace(SAM, services={"tiktok": "allowed"})
    found = verdict(profile, TIKTOK, floor=SOCIAL)
    assert (found.blocked, found.ede, found.text) == (True, EDE_BLOCKED, "blocked: TikTok (social)")


def rules(child: str) -> str:
    return with_end_line(f"children:\n  sam:\n    age_band: 9_12\n{child}")


def test_the_rules_file_takes_choices_windows_and_limits_by_app():
    text = rules(
        "    services: {tiktok: blocked, youtube: allowed}\n"
        "    allowed_during:\n"
        "      - {days: [sat], start: '10:00', end: '12:00', services: [roblox]}\n"
        "    limits: {gaming: 2h, minecraft: 45m}\n"
    )
    sam = parse_rules_file(text, CATALOGUE).children["sam"]
    assert sam.services == {"tiktok": "blocked", "youtube": "allowed"}
    assert sam.allowed_during[0].services == frozenset({"roblox"})
    assert (sam.limits.categories, sam.limits.services) == ({"gaming": 120}, {"minecraft": 45})
    assert set(sam.service_rules) == {"tiktok", "youtube", "roblox", "minecraft"}


@pytest.mark.parametrize(
    ("child", "problem"),
    [
        ("    services: {tikotk: blocked}\n", "children.sam.services.tikotk: unknown app 'tikotk'"),
        ("    services: {tiktok: sometimes}\n", "children.sam.services.tiktok: expected allowed"),
        ("    limits: {tikotk: 1h}\n", "children.sam.limits.tikotk: unknown key"),
        (
            "    allowed_during: [{start: '10:00', end: '11:00', services: [robloks]}]\n",
            "children.sam.allowed_during[0].services[0]: unknown app 'robloks'",
        ),
        (
            "    services: {youtube: blocked}\n    limits: {youtube: 1h}\n",
            "children.sam.services.youtube: blocked, but also given allowed times or a daily",
        ),
    ],
)
def test_a_bad_app_choice_is_refused_with_its_key(child, problem):
    with pytest.raises(RulesError) as refused:
        parse_rules_file(rules(child), CATALOGUE)
    assert any(p.startswith(problem) for p in refused.value.problems), refused.value.problems


def test_minutes_are_counted_per_app_beside_categories():
    tracker = UsageTracker(frozenset())
    name = domain_to_wire("www.youtube.com")
    assert tracker.note("sam", name, STREAMING, 1000, lambda: "2026-11-28", "youtube")
    assert not tracker.note("sam", name, STREAMING, 1000, lambda: "2026-11-28", "youtube")
    tracker.note("sam", name, STREAMING, 1001, lambda: "2026-11-28", "youtube")
    assert tracker.today("sam", "2026-11-28") == {OVERALL: 2, "streaming": 2, "youtube": 2}


def test_a_child_counts_each_app_and_category_once_a_minute_and_never_skips_a_new_one():
    from filterd.rules.child_state import ChildState

    background = frozenset({domain_to_wire("push.example")})
    tracker = UsageTracker(background)
    child = ChildState(SAM, LON, tracker, {})
    youtube = domain_to_wire("www.youtube.com")
    now = SAT_11
    child.note_usage(domain_to_wire("push.example"), STREAMING, now, "youtube")  # background
    assert tracker.today("sam", "2026-11-28") == {}
    child.note_usage(youtube, STREAMING, now, "youtube")
    child.note_usage(youtube, STREAMING, now + 1, "youtube")  # same minute: nothing new
    child.note_usage(domain_to_wire("apis.roblox.com"), GAMING, now + 2, "roblox")
    child.note_usage(youtube, STREAMING, now + 60, "youtube")  # the next minute
    assert tracker.today("sam", "2026-11-28") == {
        OVERALL: 2,
        "streaming": 2,
        "youtube": 2,
        "gaming": 1,
        "roblox": 1,
    }
