"""Guessing from IPv6 is counted by the /64, not the address: a device or home holds a whole
/64 and may use any of its 2^64 addresses, one per try (real SQLite dashboard.db)."""

from __future__ import annotations

from dashboard.data import throttle
from dashboard.data.db import connect

NOW = 1_800_000_000.0


def test_a_new_address_in_the_same_64_waits_like_the_first(tmp_path):
    db = connect(tmp_path / "dashboard.db")
    for host in range(1, throttle.PER_SOURCE + 1):
        tried = throttle.reserve(db, "password", "carer", f"2001:db8:1:2::{host:x}", "", NOW)
        assert isinstance(tried, throttle.Reservation)
    again = throttle.reserve(db, "password", "carer", "2001:db8:1:2:ffff::9", "", NOW)
    assert again is throttle.Refusal.SOURCE, "the same /64 under another address"
    other = throttle.reserve(db, "password", "carer", "2001:db8:1:3::1", "", NOW)
    assert isinstance(other, throttle.Reservation), "another network is counted on its own"


def test_what_is_counted_for_each_kind_of_address():
    assert throttle.source_of("192.168.1.20") == "192.168.1.20"
    assert throttle.source_of("::ffff:192.168.1.20") == "192.168.1.20"
    assert throttle.source_of("fe80::1234:5678:9abc:def0%eth0") == "fe80::/64"
    assert throttle.source_of("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
