"""A child's device seen on the LAN but silent on DNS for 10 minutes in allowed time."""

from __future__ import annotations

from filterd.events.quiet import QuietDevices

START = 1_000_000.0
PHONE, TV = "192.0.2.10", "192.0.2.20"


def owners(address: str, allowed: bool = True):
    return {PHONE: ("sam", allowed)}.get(address)


def run(now: float, seen: dict, asked: dict, child_of=owners, watcher=None):
    emitted: list[tuple] = []
    watcher = watcher or QuietDevices(lambda *a: emitted.append(a), START)
    watcher.emit = lambda *a: emitted.append(a)
    watcher.check(now, seen, asked, child_of)
    return emitted, watcher


def test_a_quiet_childs_device_is_reported_once_until_it_asks_again():
    now = START + 3600
    emitted, watcher = run(now, {PHONE: now - 30, TV: now - 30}, {PHONE: now - 700})
    assert len(emitted) == 1
    kind, child, device, data = emitted[0]
    assert (kind.name, child, device, data) == ("device.quiet", "sam", PHONE, {"quiet_minutes": 11})
    again, _ = run(now + 60, {PHONE: now + 30}, {PHONE: now - 700}, watcher=watcher)
    assert again == [], "still the same quiet spell"
    back, _ = run(now + 120, {PHONE: now + 90}, {PHONE: now + 100}, watcher=watcher)
    assert back == []
    later, _ = run(now + 900, {PHONE: now + 890}, {PHONE: now + 100}, watcher=watcher)
    assert len(later) == 1, "a new quiet spell is reported again"


def test_not_reported_when_asking_gone_from_the_lan_offline_time_or_just_started():
    now = START + 3600
    assert run(now, {PHONE: now - 30}, {PHONE: now - 300})[0] == [], "asked 5 minutes ago"
    assert run(now, {PHONE: now - 600}, {})[0] == [], "not on the network now"
    bedtime = lambda a: owners(a, allowed=False)  # noqa: E731
    assert run(now, {PHONE: now - 30}, {}, child_of=bedtime)[0] == [], "offline time"
    assert run(START + 300, {PHONE: START + 290}, {})[0] == [], "filterd up only 5 minutes"
