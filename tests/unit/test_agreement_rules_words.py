"""What a child's agreement states as the rules in force (filterd.rules.changes.in_force):
found by the outside check, an allowed-during line named no app, and a daily limit on a
category still stood after the category was blocked outright."""

from __future__ import annotations

from filterd.lists.categories import mask_of
from filterd.rules.changes import in_force
from filterd.rules.model import Limits, Profile, Window

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
