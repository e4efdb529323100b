"""Writing what the rules produce to filterd.db: each child's usage today, and the rules
status the dashboard shows (is what it saved in force, and if not, why).

Written from a worker thread (never the event loop: SQLite may wait on a lock held by the
query-log writer). The counts are taken on the event loop, the only thread that changes them;
old days leave memory once written. A new status is written at once: the dashboard must not
say "not applied" for the seconds a usage flush would wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any
from zoneinfo import ZoneInfo

from filterd.db.usage_status import UsageStatusDb
from filterd.log_throttle import QuietLog
from filterd.rules.schedule import usage_day
from filterd.rules.usage import UsageTracker

log = logging.getLogger(__name__)

USAGE_FLUSH_INTERVAL = 5.0  # seconds between writes of usage counts to SQLite


class UsageAndStatus:
    """The usage tracker's counts and the latest rules status, on their way to filterd.db."""

    def __init__(self, state: UsageStatusDb, tracker: UsageTracker) -> None:
        self.state = state
        self.tracker = tracker
        self._status: dict[str, Any] | None = None
        self._next_flush = 0.0
        # A full or read-only disk fails every flush while a child is online: said once,
        # then a summary now and then, and its end said.
        self.cannot_write = QuietLog(log, f"cannot write usage or status to {state.path}")

    def restore(self, now: float, zone: ZoneInfo) -> None:
        """At start: today's (and yesterday's) usage back into the tracker."""
        yesterday = usage_day(now - 86_400, 0, zone)
        with contextlib.suppress(Exception):  # a damaged database must not stop DNS
            for day, child, key, minutes, last in self.state.usage_since(yesterday):
                self.tracker.restore(child, day, key, minutes, last)

    def status(self, ok: bool, problems: list[str], path: str, version: str) -> None:
        """A new rules status, written at the next look."""
        self._status = {
            "ok": ok,
            "problems": problems,
            "path": path,
            "version": version,
            "checked": time.time(),
        }

    def due(self) -> bool:
        """Time for a usage flush, or a status waiting."""
        now = time.monotonic()
        if now >= self._next_flush or self._status is not None:
            self._next_flush = now + USAGE_FLUSH_INTERVAL
            return True
        return False

    async def flush(self, now: float, zone: ZoneInfo) -> None:
        """Write changed usage counts and the rules status, in a thread."""
        rows = self.tracker.take_dirty()
        self.tracker.forget_before(usage_day(now - 2 * 86_400, 0, zone))
        status, self._status = self._status, None
        if rows or status is not None:
            await asyncio.to_thread(self._write, rows, status)

    def _write(self, rows: list[tuple[str, str, str, int, int]], status: dict | None) -> None:
        try:
            if rows:
                self.state.write_usage(rows)
            if status is not None:
                self.state.set_status("rules", status)
        except Exception as err:  # a full disk stops the record, never DNS
            self.cannot_write.happened(err, len(rows), "usage counts not written")
            return
        self.cannot_write.ended()

    def close(self) -> None:
        self.state.close()
