"""Events raised inside the daemon, appended to the event log off the event loop.

`emit` never blocks and never raises: it queues the event and a worker thread appends the
queue in order (SQLite may wait on a lock held by the query-log writer). A failed append is
logged and retried with the next one, so a full disk loses no event that a later write saves.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from filterd.db.events import EventLog
from filterd.events.kinds import Kind

log = logging.getLogger(__name__)

MAX_WAITING = 10_000  # events kept while the database cannot be written


class EventRecorder:
    def __init__(self, store: EventLog) -> None:
        self.store = store
        self.waiting: list[tuple[Kind, str, str, dict[str, Any], float]] = []
        self.appended = 0
        self._task: asyncio.Task | None = None

    def emit(
        self,
        kind: Kind,
        child: str = "",
        device: str = "",
        data: Mapping[str, Any] | None = None,
        ts: float | None = None,
    ) -> None:
        """Record an event soon (from the event loop); `ts` is the daemon's clock when the
        caller has it (a moved clock in tests, a clock set by trusted time)."""
        if len(self.waiting) >= MAX_WAITING:
            del self.waiting[0]
        when = time.time() if ts is None else ts
        self.waiting.append((kind, child, device, dict(data or {}), when))
        log.info("event %s %s %s", kind.name, child, device)
        if self._task is None or self._task.done():
            try:
                self._task = asyncio.get_running_loop().create_task(self.flush())
            except RuntimeError:  # no loop (a command-line use): write now
                self._write()

    async def flush(self) -> None:
        """Append everything queued (also called at stop)."""
        while self.waiting:
            written = await asyncio.to_thread(self._write)
            if not written:
                return  # the database refused: the next emit tries again

    def _write(self) -> int:
        batch = list(self.waiting)
        written = 0
        try:
            for kind, child, device, data, ts in batch:
                self.store.append(kind, child, device, data, ts)
                written += 1
        except Exception as err:  # a full disk or a locked file never stops DNS
            log.warning("event log: cannot append %s: %s", batch[written][0].name, err)
        del self.waiting[:written]
        self.appended += written
        return written

    async def stop(self) -> None:
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        await self.flush()
        self.store.close()
