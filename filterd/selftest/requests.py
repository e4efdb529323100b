"""Self-tests asked for on demand: the dashboard's "Run the self-test now" and
`filterd selftest --children` append a `selftest.requested` event to the event log, and the
daemon, which alone can ask its own chain as each child's device, notices it at its next event
watch (every two seconds) and runs both self-tests. The event log is the only channel, so a
request is recorded with who made it, and one made while filterd is down runs when it starts.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

from filterd.db.events import EventLog
from filterd.events.kinds import SELFTEST_REQUESTED


class SelftestRequests:
    """Tells the daemon, once per request, that someone asked for a self-test."""

    def __init__(self, database: Path) -> None:
        self.store = EventLog(database, "filterd")
        self.seen: int | None = None  # the newest request handled (None: not read yet)

    async def pending(self, started: float) -> bool:
        """Whether a request arrived since the last call; the first call counts requests made
        since `started` (the box's start), so one made while filterd was stopped still runs.
        A database that cannot be read has no request in it (its trouble is said elsewhere)."""
        try:
            return await asyncio.to_thread(self._pending, started)
        except (sqlite3.Error, OSError):
            return False

    def _pending(self, started: float) -> bool:
        newest = self.store.newest_id_of(SELFTEST_REQUESTED.name)
        if self.seen is None:
            recent = self.store.of_kind_since(SELFTEST_REQUESTED.name, started)
            self.seen = newest
            return bool(recent)
        if newest > self.seen:
            self.seen = newest
            return True
        return False

    def close(self) -> None:
        self.store.close()


def request(database: Path, by: str, source: str = "filterd") -> int:
    """Ask the running filterd for a self-test now (the dashboard and the command line);
    `source` is who appends the event, as the event log records it."""
    log = EventLog(database, source)
    try:
        return log.append(SELFTEST_REQUESTED, data={"by": by})
    finally:
        log.close()


def await_children_result(database: Path, by: str, timeout: float = 60.0) -> dict | None:
    """Ask for a self-test and wait for the running filterd's per-child result (None when it
    does not come within `timeout`: filterd is not running, or has no child with a device)."""
    from filterd.events.kinds import SELFTEST_FAILED, SELFTEST_RESULT

    asked = request(database, by)
    log = EventLog(database, "filterd")
    deadline = time.monotonic() + timeout
    after = asked
    try:
        while time.monotonic() < deadline:
            for event in log.read_after(after):
                after = event.id
                if event.kind in (SELFTEST_RESULT.name, SELFTEST_FAILED.name) and (
                    event.data.get("scope") == "profiles"
                ):
                    return {**event.data}
            time.sleep(0.5)
    finally:
        log.close()
    return None
