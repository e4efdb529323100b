"""Time as a parameter: logic asks an injected clock, so tests can move it."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Monotonic seconds for durations and expiry; wall seconds for the query log."""

    def monotonic(self) -> float: ...

    def time(self) -> float: ...


class SystemClock:
    """The real clock."""

    monotonic = staticmethod(time.monotonic)
    time = staticmethod(time.time)
