"""filterd.rules.changes: rule changes in plain words, setting by setting, with high-risk
loosening marked (describe); and the rules in force an agreement states (in_force)."""

from __future__ import annotations

import yaml

from dashboard.data import audit
from filterd.lists.categories import mask_of
from filterd.rules.changes import describe, in_force
from filterd.rules.guards import with_end_line
from filterd.rules.model import Limits, Profile, Window
from filterd.rules.parse import parse_rules_bytes
from filterd.rules.presets import AGE_BAND_LABELS


def rules(**sam) -> object:
    child = {"name": "Sam", "age_band": "13_15", **sam}
    text = yaml.safe_dump(
        {
            "timezone": "Europe/London",
            "children": {"sam": child},
            "devices": [{"ip": "192.0.2.5", "name": "Sam's phone", "owner": "sam"}],
        }
    )
    return parse_rules_bytes(with_end_line(text).encode())


def lines(old, new) -> list[str]:
    return [str(change) for change in describe(old, new)]


def test_unblocking_adult_reads_blocked_to_allowed_and_asks_for_a_reason():
    before = rules()
    after = rules(block_categories=[c for c in ("gambling", "dating") if c])
    changes = describe(before, after)
    adult = next(c for c in changes if c.setting == "adult")
    assert str(adult) == "Sam: adult: blocked -> allowed"
    assert adult.loosens_high_risk
    assert not any(c.loosens_high_risk for c in describe(after, before)), "tightening: no reason"


def test_a_later_bedtime_reads_as_the_time_moving():
    before = rules(offline=[{"days": "school_nights", "start": "20:30", "end": "07:00"}])
    after = rules(offline=[{"days": "school_nights", "start": "21:30", "end": "07:00"}])
    assert lines(before, after) == ["Sam: bedtime school nights: 20:30 -> 21:30"]


def test_limits_lists_and_devices_in_plain_words():
    before = rules(limits={"gaming": "2h"}, allow=["school.example"])
    after = rules(limits={"gaming": "3h 30m"}, allow=["school.example", "games.example"])
    assert lines(before, after) == [
        "Sam: daily limit gaming: 2h -> 3h 30m",
        "Sam: allow list: school.example -> games.example, school.example",
    ]


def test_nothing_changed_says_nothing():
    assert describe(rules(), rules()) == []


def test_every_high_risk_category_asks_for_a_reason_when_opened_stranger_chat_too():
    # The high-risk list is filterd.lists.categories.HIGH_RISK, once; a copy here had
    # drifted and let a carer open chat with strangers without giving a reason.
    before = rules(block_categories=["gambling", "stranger_chat"])
    after = rules(block_categories=["gambling"])
    opened = next(c for c in describe(before, after) if c.setting == "stranger chat")
    assert str(opened) == "Sam: stranger chat: blocked -> allowed"
    assert opened.loosens_high_risk


def test_a_category_change_is_named_as_pages_and_alerts_name_it():
    before = rules(block_categories=["gambling", "self_harm", "ai_chat"])
    after = rules(block_categories=["gambling"])
    assert lines(before, after) == [
        "Sam: self-harm: blocked -> allowed",
        "Sam: AI chat: blocked -> allowed",
    ]


def test_an_age_band_change_is_said_with_the_labels_the_dashboard_shows():
    """Issue 10: the dashboard offered "9 to 12" while this line said "age 9-12"; both now read
    filterd.rules.presets.AGE_BAND_LABELS."""
    line = lines(rules(age_band="9_12"), rules(age_band="13_15"))
    assert line[0] == "Sam: age band: age 9 to 12 -> age 13 to 15"
    assert AGE_BAND_LABELS["9_12"] in line[0] and AGE_BAND_LABELS["13_15"] in line[0]
    # a child added before this release was recorded with the band's id: said the same way
    old = audit.change_words(audit.CHILD_ADD, "sam", "9_12", {"sam": "Sam"})
    assert old == "Sam: child: none -> added (age 9 to 12)"


# The rules in force an agreement states (in_force). Found by the outside check: an
# allowed-during line named no app, and a daily limit on a category still stood after the
# category was blocked outright.

SATURDAY_MORNING = Window(frozenset({5}), 600, 720, 0, frozenset({"bbc_iplayer"}))


def stated(profile: Profile) -> dict[str, str]:
    return {s.setting: s.value for s in in_force(profile)}


def test_an_allowed_during_line_names_the_app_it_lets_through():
    sam = Profile("sam", "Sam", "13_15", block_mask=0, allowed_during=(SATURDAY_MORNING,))
    lines = stated(sam)
    (during,) = [value for setting, value in lines.items() if setting.startswith("allowed")]
    assert during == "10:00-12:00 (app bbc_iplayer)"


def test_a_limit_on_a_blocked_category_is_left_out():
    limits = Limits(categories={"gaming": 120, "social": 60})
    sam = Profile("sam", "Sam", "13_15", block_mask=mask_of(["gaming"]), limits=limits)
    lines = stated(sam)
    limited = [s for s in lines if s.startswith("daily limit")]
    assert limited == ["daily limit social"]  # gaming's is not in force: it is blocked
    assert lines["blocked"] == "gaming"
