"""The illegal tier outranks every other row of the precedence table, a helpline entry included."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from filterd.dns.block_answers import EDE_BLOCKED
from filterd.dns.query import Reason
from filterd.lists.categories import mask_of
from filterd.lists.index import domain_to_wire
from filterd.lists.store import HELPLINE
from filterd.rules.decide import decide
from filterd.rules.model import ALL_DAYS, Override, OverrideKind, Profile, Window

LON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 21, 22, 30, tzinfo=LON).timestamp()  # inside bedtime
LATER = NOW + 3600
ILLEGAL = mask_of(["illegal"])
NAME = domain_to_wire("abuse.example")

EVERY_LOOSENING = Profile(
    id="sam",
    name="Sam",
    age_band="9_12",
    block_mask=ILLEGAL,
    allow=frozenset({NAME}),
    always_allow=frozenset({NAME}),
    offline=(Window(ALL_DAYS, 21 * 60, 7 * 60),),
    overrides=(
        Override(OverrideKind.LIFT_BEDTIME, LATER),
        Override(OverrideKind.EXTRA_TIME, LATER, 60, None),
    ),
)


@pytest.mark.parametrize("helpline", [0, HELPLINE], ids=["plain", "also-a-helpline"])
def test_illegal_is_blocked_whatever_else_lets_the_name_through(helpline):
    verdict = decide(NAME, ILLEGAL | helpline, EVERY_LOOSENING, {}, NOW, LON, floor=ILLEGAL)
    assert verdict.blocked
    assert (verdict.reason, verdict.ede, verdict.text) == (
        Reason.BLOCKED,
        EDE_BLOCKED,
        "blocked: illegal",
    )


def test_a_helpline_on_no_illegal_list_still_passes():
    adult = mask_of(["adult"])
    verdict = decide(NAME, adult | HELPLINE, EVERY_LOOSENING, {}, NOW, LON, floor=ILLEGAL | adult)
    assert (verdict.blocked, verdict.reason) == (False, Reason.HELPLINE)
