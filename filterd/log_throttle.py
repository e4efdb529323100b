"""A problem that repeats is said once, then summarised now and then, and its end is said.

A full or read-only disk fails every 100 ms batch of the query log; one line each buries
everything else in the journal. The first occurrence is logged in full, later ones are counted
and summarised at most every `interval` seconds, and recovery gets one line.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

SUMMARY_INTERVAL = 300.0


class QuietLog:
    """One recurring problem of one component (for example "query log write failed")."""

    def __init__(
        self,
        logger: logging.Logger,
        what: str,
        interval: float = SUMMARY_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.what = what
        self.interval = interval
        self.clock = clock
        self.active = False
        self.times = 0  # occurrences since the last line logged
        self.items = 0  # what they cost (entries dropped, ...) since the last line
        self.next_summary = 0.0
        self.last_reason = ""

    def happened(self, reason: object, items: int = 0, unit: str = "entries lost") -> None:
        """One more occurrence; logs the first at once and then a summary when one is due."""
        now = self.clock()
        self.last_reason = str(reason)
        self.times += 1
        self.items += items
        if not self.active:
            self.active = True
            self.logger.warning("%s: %s (%d %s)", self.what, reason, items, unit)
            self._reset(now)
            return
        if now >= self.next_summary:
            self.logger.warning(
                "%s: still happening, %d times in the last %d s (%d %s), last: %s",
                self.what,
                self.times,
                round(self.interval),
                self.items,
                unit,
                self.last_reason,
            )
            self._reset(now)

    def ended(self, how: str = "working again") -> None:
        """The problem is over (cheap when it never began)."""
        if self.active:
            self.active = False
            extra = f" ({self.times} more times since the last line)" if self.times else ""
            self.logger.warning("%s: %s%s", self.what, how, extra)
            self.times = self.items = 0

    def _reset(self, now: float) -> None:
        self.times = self.items = 0
        self.next_summary = now + self.interval
