"""The rules service's parts, each with one job: watching the file, the address-to-MAC table,
writing usage and status to filterd.db, and identify built from the rules."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

from filterd.db.usage_status import UsageStatusDb
from filterd.rules.decide import HOUSEHOLD
from filterd.rules.identify import identify_for
from filterd.rules.neighbours import Neighbours
from filterd.rules.parse import parse_rules
from filterd.rules.usage import UsageTracker
from filterd.rules.usage_writer import UsageAndStatus
from filterd.rules.watch import RulesFileWatch
from tests.support.filterd_db import LONG_AGO

GOOD = """\
timezone: Europe/London
unknown_devices: household
children:
  sam: {name: Sam, age_band: 9_12}
devices:
  - {mac: "aa:bb:cc:dd:ee:01", name: Sam's phone, owner: sam}
end_of_rules: true
"""


def test_the_watch_sees_each_change_once_and_reads_the_version_the_dashboard_computes(
    tmp_path: Path,
):
    path = tmp_path / "rules.yaml"
    path.write_text(GOOD)
    watch = RulesFileWatch(path, tmp_path / "rules.last-good.yaml")
    assert watch.changed() and not watch.changed()
    reading = watch.read(None)
    assert set(reading.rules.children) == {"sam"} and reading.problems == []
    assert reading.version == hashlib.sha256(GOOD.encode()).hexdigest()
    path.write_text(GOOD.replace("9_12", "nine"))
    os.utime(path, ns=(1, 1))  # a new mtime however fast the test runs
    assert watch.changed()
    broken = watch.read(None)
    assert broken.rules is None and any("age_band" in p for p in broken.problems)
    path.unlink()
    assert watch.changed() and watch.read(None).problems[0].startswith("(file): cannot read")


def test_the_good_copy_is_kept_whole_and_read_back(tmp_path: Path):
    watch = RulesFileWatch(tmp_path / "rules.yaml", tmp_path / "var" / "rules.last-good.yaml")
    assert watch.good_rules(None) is None
    watch.keep_good(GOOD)
    assert set(watch.good_rules(None).children) == {"sam"}
    assert not (tmp_path / "var" / "rules.last-good.tmp").exists()


def test_the_neighbour_table_says_when_an_address_moves_to_another_device():
    table = Neighbours()
    changes = []
    table.changed = lambda: changes.append(dict(table.macs))
    table.learn("192.168.1.20", "aa:bb:cc:dd:ee:01")
    table.learn("192.168.1.20", "aa:bb:cc:dd:ee:01")  # the same: nothing to work out again
    table.learn("192.168.1.20", "aa:bb:cc:dd:ee:02")
    assert changes == [
        {"192.168.1.20": "aa:bb:cc:dd:ee:01"},
        {"192.168.1.20": "aa:bb:cc:dd:ee:02"},
    ]


def test_identify_follows_the_mac_and_gives_unknown_addresses_short_lived_household_answers():
    rules = parse_rules(GOOD)
    asked: list[str] = []
    macs: dict[str, str] = {}
    identify = identify_for(rules, UsageTracker(frozenset()), macs, asked.append)
    provisional = identify.lookup("192.168.1.20")
    assert provisional.profile is HOUSEHOLD and provisional.max_ttl < 60
    assert asked == ["192.168.1.20"]  # discovery is asked to find its MAC now
    macs["192.168.1.20"] = "aa:bb:cc:dd:ee:01"
    identify.memo.clear()
    assert identify.lookup("192.168.1.20").profile.id == "sam"


def test_usage_and_status_reach_filterd_db(tmp_path: Path):
    state = UsageStatusDb(tmp_path / "filterd.db", LONG_AGO)  # usage of 2023 kept, not pruned
    tracker = UsageTracker(frozenset())
    record = UsageAndStatus(state, tracker)
    now = 1_700_000_000.0
    tracker.note("sam", b"\x04news\x07example\x00", 0, int(now // 60), lambda: "2023-11-14")
    record.status(False, ["children.sam.age_band: expected one of ..."], "rules.yaml", "abc")
    assert record.due()
    asyncio.run(record.flush(now, ZoneInfo("Europe/London")))
    record.close()
    db = sqlite3.connect(tmp_path / "filterd.db")
    (status,) = db.execute("SELECT value FROM status WHERE key = 'rules'").fetchone()
    assert json.loads(status)["problems"] == ["children.sam.age_band: expected one of ..."]
    assert db.execute("SELECT child, minutes FROM usage").fetchall() == [("sam", 1)]
