"""The per-child self-test asks its category and safe-search questions outside bedtime (asked
at bedtime they would be refused for bedtime and prove nothing), and its bedtime question
inside it, whatever the time it runs."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import yaml

from filterd.rules.decide import situation
from filterd.rules.guards import with_end_line
from filterd.rules.parse import parse_rules_bytes
from filterd.selftest.profiles import awake_moment, bedtime_moment
from tests.support.wall_clock import london

LONDON = ZoneInfo("Europe/London")
RULES = {
    "timezone": "Europe/London",
    "children": {
        "sam": {
            "name": "Sam",
            "age_band": "13_15",
            "offline": [{"days": "every_day", "start": "21:00", "end": "07:00"}],
        }
    },
    "devices": [{"ip": "192.168.1.20", "owner": "sam"}],
}


def test_at_bedtime_the_checks_are_asked_at_the_next_waking_moment_and_by_day_now():
    rules = parse_rules_bytes(with_end_line(yaml.safe_dump(RULES)).encode())
    sam = rules.children["sam"]
    night = london("2026-11-27 23:10")
    moment = awake_moment(sam, rules, night)
    assert moment is not None and not situation(sam, {}, moment, LONDON).offline
    assert datetime.fromtimestamp(moment, LONDON).strftime("%H:%M") == "07:10"
    assert awake_moment(sam, rules, london("2026-11-27 12:00")) is None, "by day: now"
    bedtime = bedtime_moment(sam, rules, london("2026-11-27 12:00"))
    assert bedtime is not None and situation(sam, {}, bedtime, LONDON).offline
