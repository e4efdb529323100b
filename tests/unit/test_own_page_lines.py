"""The child's own page says what applies in words a child reads right: a lifted bedtime says
until when it is off and the bedtime that follows, not the next night's bedtime, and one
minute is "1 minute"."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from dashboard.child_side.own_page import what_applies
from filterd.catalogue.load import load_catalogue
from filterd.db.read import FilterdReader
from filterd.db.retention import Retention
from filterd.rules.guards import with_end_line
from filterd.rules.parse import parse_rules_file

TZ = ZoneInfo("Europe/London")
SATURDAY_2200 = datetime(2026, 11, 28, 22, 0, tzinfo=TZ)


def lines(tmp_path: Path, **mia: object) -> list[str]:
    body = {"name": "Mia", "age_band": "9_12", **mia}
    rules = parse_rules_file(
        with_end_line(yaml.safe_dump({"timezone": "Europe/London", "children": {"mia": body}}))
    )
    reader = FilterdReader(tmp_path / "filterd.db", Retention(7))
    try:
        moment = SATURDAY_2200.timestamp()
        said = what_applies(rules, rules.children["mia"], reader, moment, load_catalogue())
        return [line.text for line in said]
    finally:
        reader.close()


BEDTIME = [{"days": "every_day", "start": "21:30", "end": "08:00"}]


def test_a_lifted_bedtime_says_until_when_and_the_bedtime_after(tmp_path):
    lift = {"kind": "lift_bedtime", "until": "2026-11-28T22:25:00+00:00"}
    said = lines(tmp_path, offline=BEDTIME, overrides=[lift])
    assert said[0] == "Bedtime is off until 22:25, then it is bedtime until 08:00."
    assert not any(line.startswith("Bedtime from") for line in said)


def test_one_minute_is_singular(tmp_path):
    assert "Time online today: 0 of 1 minute" in lines(tmp_path, offline=[], limits={"overall": 1})


def test_bedtime_now_and_a_pause_say_until_when(tmp_path):
    pause = {"kind": "pause", "until": "2026-11-28T23:15:00+00:00"}
    said = lines(tmp_path, offline=BEDTIME, overrides=[pause])
    assert said[:2] == [
        "A grown-up has paused the internet on this device until 23:15.",
        "It is bedtime now until Sunday 08:00.",
    ]


def test_an_apps_own_limit_is_listed_with_its_extra_time(tmp_path):
    """An app's daily limit is a limit on this device too: the page lists it by the app's
    name, with extra time for everything added as filterd adds it (extra time for a category
    is not the app's)."""
    more = [
        {"kind": "extra_time", "minutes": 15, "until": "2026-11-29T00:00:00+00:00"},
        {
            "kind": "extra_time",
            "minutes": 10,
            "category": "streaming",
            "until": "2026-11-29T00:00:00+00:00",
        },
    ]
    said = lines(tmp_path, offline=[], limits={"youtube": 45}, overrides=more)
    assert "Time for YouTube today: 0 of 60 minutes" in said
