"""filterd.rules.allowances: the one sum of a limit and its extra time, read by decide (is the
limit spent?) and by the child card and the child's own page (how many minutes)."""

from __future__ import annotations

import pytest

from filterd.rules.allowances import Allowances, allowances
from filterd.rules.model import Limits, Override, OverrideKind, Profile

NOW = 1_800_000_000.0
LIMITS = Limits(overall=120, categories={"gaming": 60, "social": 30}, services={"youtube": 45})


def extra(minutes: int, category: str | None = None, until: float = NOW + 600) -> Override:
    return Override(OverrideKind.EXTRA_TIME, until, minutes, category)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param((), Allowances(120, {"gaming": 60, "social": 30}, {"youtube": 45}), id="none"),
        pytest.param(
            (extra(20),),
            Allowances(140, {"gaming": 80, "social": 50}, {"youtube": 65}),
            id="for everything: every limit, the app's too",
        ),
        pytest.param(
            (extra(15, "gaming"),),
            Allowances(135, {"gaming": 75, "social": 30}, {"youtube": 45}),
            id="for a category: it and overall, no app",
        ),
        pytest.param(
            (extra(10), extra(15, "gaming"), extra(5, "gaming")),
            Allowances(150, {"gaming": 90, "social": 40}, {"youtube": 55}),
            id="several add up",
        ),
        pytest.param(
            (extra(20, until=NOW - 1), extra(10, "social", until=NOW)),
            Allowances(120, {"gaming": 60, "social": 30}, {"youtube": 45}),
            id="ended extra time counts no more",
        ),
    ],
)
def test_each_limit_with_the_extra_time_in_force(overrides, expected):
    profile = Profile("mia", "Mia", "9_12", 0, limits=LIMITS, overrides=overrides)
    assert allowances(profile, NOW) == expected


def test_a_limit_not_set_is_absent():
    profile = Profile("mia", "Mia", "9_12", 0, limits=Limits(services={"roblox": 30}))
    assert allowances(profile, NOW) == Allowances(None, {}, {"roblox": 30})
