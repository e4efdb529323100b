"""Which rules entry is the device at an address: one answer (filterd.rules.identify.
device_entry) for filterd, the review queue's device names and the block page.

Issue 10: the three worked it out three ways (filterd: address first, then MAC; the review
queue: MAC first; the block page: the first entry in the file matching either). Sam's tablet is
listed by its address, Alex's phone by its MAC, and the phone now has the tablet's address:
filterd applied Sam's rules while the review queue said "Alex's phone"."""

from __future__ import annotations

from pathlib import Path

import yaml

from dashboard.child_side.why import device_name
from dashboard.data.blocked_log import device_labels
from filterd.db.devices import Sighting
from filterd.db.read import FilterdReader
from filterd.rules.identify import device_entry, identify_for
from filterd.rules.parse import parse_rules
from filterd.rules.usage import UsageTracker
from tests.support.filterd_db import LONG_AGO, write_devices

PHONE = "aa:bb:cc:dd:ee:02"
SHARED = "192.168.1.20"
RULES = {
    "timezone": "Europe/London",
    "unknown_devices": "household",
    "children": {
        "sam": {"name": "Sam", "age_band": "9_12"},
        "alex": {"name": "Alex", "age_band": "13_15"},
    },
    "devices": [  # the phone first: "the first entry in the file" would pick it
        {"mac": PHONE, "name": "Alex's phone", "owner": "alex"},
        {"ip": SHARED, "name": "Sam's tablet", "owner": "sam"},
    ],
}


def test_a_phone_listed_by_mac_at_an_address_listed_for_a_tablet_is_the_tablet_everywhere(
    tmp_path: Path,
) -> None:
    rules = parse_rules(yaml.safe_dump(RULES))
    neighbours = {SHARED: PHONE}
    # filterd applies Sam's rules to whatever is at the tablet's listed address
    identify = identify_for(rules, UsageTracker(frozenset()), neighbours, lambda _: None)
    assert identify.lookup(SHARED).profile.id == "sam"
    assert device_entry(rules.devices, SHARED, neighbours).name == "Sam's tablet"

    # discovery saw the phone at that address (filterd.db, written by filterd's own store)
    database = tmp_path / "filterd.db"
    write_devices(
        database,
        [Sighting(PHONE, SHARED, "phone", None, None, None, False, 1_700_000_000.0, (SHARED,))],
    )
    reader = FilterdReader(database, LONG_AGO)
    # the review queue names the device whose rules were applied...
    assert device_labels(reader, RULES, [SHARED])[SHARED].name == "Sam's tablet"
    # ...and so does the block page shown on it
    assert device_name(rules, SHARED, reader.neighbours_of(SHARED)) == "Sam's tablet"


def test_the_phone_is_itself_at_an_address_nobody_is_listed_by(tmp_path: Path) -> None:
    rules = parse_rules(yaml.safe_dump(RULES))
    elsewhere = "192.168.1.31"
    database = tmp_path / "filterd.db"
    write_devices(
        database,
        [
            Sighting(
                PHONE, elsewhere, "phone", None, None, None, False, 1_700_000_000.0, (elsewhere,)
            )
        ],
    )
    reader = FilterdReader(database, LONG_AGO)
    assert device_labels(reader, RULES, [elsewhere])[elsewhere].name == "Alex's phone"
    assert device_name(rules, elsewhere, reader.neighbours_of(elsewhere)) == "Alex's phone"
    assert device_entry(rules.devices, "192.168.1.99", {}) is None
