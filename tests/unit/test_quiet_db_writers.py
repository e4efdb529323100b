"""Log floods beyond the query log (issue 11, finding 8, found again from outside): with
filterd.db unopenable or full, discovery said "cannot record devices" at every flush (each 6 s
in a running filterd) and the usage writer said so at every flush while a child was online.
Each is now said once, then summarised, and its recovery said."""

from __future__ import annotations

import asyncio
import logging
import re

from filterd.clock import SystemClock
from filterd.db.devices import DeviceStore
from filterd.db.usage_status import UsageStatusDb
from filterd.discovery.observation import Observation, Source
from filterd.discovery.service import Discovery
from filterd.discovery.settings import DiscoverySettings
from filterd.log_throttle import QuietLog
from filterd.rules.usage import UsageTracker
from filterd.rules.usage_writer import UsageAndStatus
from tests.support.stages import MovableClock


def unopenable(tmp_path):
    """A database path whose directory is a plain file, as an unopenable database."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    return blocker / "filterd.db"


def lines_with(caplog, words: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if words in r.getMessage()]


def test_discovery_that_cannot_record_devices_says_so_once_then_summarises(tmp_path, caplog):
    discovery = Discovery(
        DiscoverySettings(), DeviceStore(unopenable(tmp_path)), lambda a, m: None, SystemClock()
    )
    clock = MovableClock()
    discovery.cannot_record = QuietLog(
        logging.getLogger("test"), "discovery: cannot record devices", 60, clock.monotonic
    )
    seen = Observation("02:00:00:00:00:0a", "192.0.2.10", Source.NEIGHBOURS)

    async def flushes(count: int) -> None:
        for _ in range(count):
            discovery.observe([seen])
            await discovery.flush()
            clock.advance(6.0)  # a poll and a flush every 6 s, as in the daemon

    with caplog.at_level(logging.WARNING):
        asyncio.run(flushes(100))  # 10 minutes
    lines = lines_with(caplog, "cannot record devices")
    assert len(lines) == 10, lines  # the first, then one summary a minute (not 100 lines)
    assert "not-a-directory" in lines[0]  # why, with the path
    assert re.search(r"still happening, 10 times in the last 60 s", lines[1])

    discovery.store = DeviceStore(tmp_path / "filterd.db")
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        asyncio.run(flushes(1))
    assert lines_with(caplog, "cannot record devices") == [
        "discovery: cannot record devices: working again (9 more times since the last line)"
    ]
    assert [row.mac for row in discovery.store.known()] == ["02:00:00:00:00:0a"]


def test_usage_that_cannot_be_written_says_so_once_then_summarises(tmp_path, caplog):
    usage = UsageAndStatus(UsageStatusDb(unopenable(tmp_path)), UsageTracker(frozenset()))
    clock = MovableClock()
    usage.cannot_write = QuietLog(
        logging.getLogger("test"), "cannot write usage", 60, clock.monotonic
    )
    row = ("2026-11-27", "sam", "overall", 1, 600)
    with caplog.at_level(logging.WARNING):
        for _minute in range(30):  # half an hour of a child online, a flush every 5 s
            for _ in range(12):
                usage._write([row], {"ok": True})
                clock.advance(5.0)
    lines = lines_with(caplog, "cannot write usage")
    assert len(lines) == 30, lines  # the first, then a summary a minute (not 360 lines)
    assert "not-a-directory" in lines[0]  # why, with the path

    usage.state = UsageStatusDb(tmp_path / "filterd.db")
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        usage._write([row], {"ok": True})
    assert [m for m in lines_with(caplog, "cannot write usage") if "working again" in m]
    assert usage.state.usage_since("2026-11-27") == [row]
