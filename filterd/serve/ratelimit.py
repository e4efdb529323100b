"""Per-client token bucket: generous enough for a page load, firm against a flood."""

from __future__ import annotations

from collections.abc import Callable


class RateLimiter:
    """Each client address refills `rate` tokens a second up to `burst`; a query costs one."""

    MAX_CLIENTS = 65_536

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, list[float]] = {}
        self.changed: Callable[[], None] = lambda: None  # told after each configure

    def configure(self, rate: float, burst: float) -> None:
        """New limits from a reloaded config; every client starts again with a full bucket."""
        self.rate = rate
        self.burst = burst
        self._buckets = {}
        self.changed()

    def allow(self, client: str, now: float) -> bool:
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) >= self.MAX_CLIENTS:
                self._forget_idle(now)
            self._buckets[client] = [self.burst - 1, now]
            return True
        tokens = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if tokens < 1:
            bucket[0] = tokens
            return False
        bucket[0] = tokens - 1
        return True

    def _forget_idle(self, now: float) -> None:
        """Drop clients whose bucket has refilled (they are idle); a flooding client keeps its
        empty bucket, so churning through many addresses cannot reset its limit."""
        full = self.burst / self.rate if self.rate > 0 else 0
        self._buckets = {c: b for c, b in self._buckets.items() if now - b[1] < full}
        if len(self._buckets) >= self.MAX_CLIENTS:
            self._buckets.clear()
