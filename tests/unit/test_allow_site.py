"""The allow_site override (a carer's yes to a child's request for access): parsed and
checked by filterd's rules parser, applied by decide while in force, ending by itself."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from filterd.lists.categories import mask_of
from filterd.lists.index import domain_to_wire
from filterd.rules.decide import decide
from filterd.rules.parse import RulesError, parse_rules

TZ = ZoneInfo("Europe/London")
SOCIAL = mask_of(["social"])


def rules_with(override: str):
    return parse_rules(
        "timezone: Europe/London\n"
        "children:\n"
        "  sam:\n"
        "    name: Sam\n"
        "    age_band: '9_12'\n"
        "    offline: []\n"
        "    overrides:\n"
        f"      - {override}\n"
        "devices: []\n"
    )


def test_a_site_is_let_through_until_the_override_ends_and_its_subdomains_too():
    sam = rules_with(
        "{kind: allow_site, site: Social.Example, until: '2026-11-27 19:30'}"
    ).children["sam"]
    before = datetime(2026, 11, 27, 19, 29, tzinfo=TZ).timestamp()
    after = datetime(2026, 11, 27, 19, 30, tzinfo=TZ).timestamp()
    for name in ("social.example", "cdn.social.example"):
        wire = domain_to_wire(name)
        assert not decide(wire, SOCIAL, sam, {}, before, TZ, mask_of(["illegal"])).blocked
        assert decide(wire, SOCIAL, sam, {}, after, TZ, mask_of(["illegal"])).blocked
    other = domain_to_wire("other-social.example")
    assert decide(other, SOCIAL, sam, {}, before, TZ, mask_of(["illegal"])).blocked


def test_the_household_floor_still_wins_over_an_allowed_site():
    sam = rules_with("{kind: allow_site, site: bad.example, until: '2026-11-27 19:30'}").children[
        "sam"
    ]
    before = datetime(2026, 11, 27, 19, 0, tzinfo=TZ).timestamp()
    illegal = mask_of(["illegal"])
    assert decide(domain_to_wire("bad.example"), illegal, sam, {}, before, TZ, illegal).blocked


@pytest.mark.parametrize(
    ("override", "problem"),
    [
        ("{kind: allow_site, until: '2026-11-27 19:30'}", "overrides[0].site: expected a domain"),
        ("{kind: allow_site, site: 'not a name', until: '2026-11-27 19:30'}", "overrides[0].site"),
        ("{kind: allow_site, site: ok.example}", "overrides[0].until: required for allow_site"),
        ("{kind: pause, site: ok.example}", "overrides[0].site: only allow_site takes a site"),
    ],
)
def test_a_bad_allow_site_is_refused_with_its_key(override: str, problem: str):
    with pytest.raises(RulesError) as refused:
        rules_with(override)
    assert any(problem in line for line in refused.value.problems), refused.value.problems
