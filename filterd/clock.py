"""Time as a parameter: logic asks an injected clock, so tests can move it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from pathlib import Path
from typing import Protocol

CLOCK_FILE_VARIABLE = "FILTERD_CLOCK_FILE"


class Clock(Protocol):
    """Monotonic seconds for durations and expiry; wall seconds for the query log."""

    def monotonic(self) -> float: ...

    def time(self) -> float: ...


class SystemClock:
    """The real clock."""

    monotonic = staticmethod(time.monotonic)
    time = staticmethod(time.time)


class ShiftedClock:
    """Wall time moved by the number of seconds written in a file ($FILTERD_CLOCK_FILE).

    For tests and demos: they move a running daemon to just before bedtime, or across the
    BST/GMT change, without waiting for it. Durations stay on the real monotonic clock. The
    file is re-read twice a second by `follow`, which the daemon runs.
    """

    monotonic = staticmethod(time.monotonic)

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0.0
        self.refresh()

    def time(self) -> float:
        return time.time() + self.offset

    def refresh(self) -> None:
        with contextlib.suppress(OSError, ValueError):  # unreadable: keep the last offset
            self.offset = float(self.path.read_text().strip() or 0)


async def follow(clock: Clock, interval: float = 0.5) -> None:
    """Keep a ShiftedClock's offset current (the real clock needs nothing)."""
    refresh = getattr(clock, "refresh", None)
    if refresh is None:
        return
    while True:
        await asyncio.sleep(interval)
        refresh()


def clock_from_environment() -> Clock:
    """The real clock, unless $FILTERD_CLOCK_FILE names a file of offset seconds."""
    path = os.environ.get(CLOCK_FILE_VARIABLE)
    return ShiftedClock(Path(path)) if path else SystemClock()
