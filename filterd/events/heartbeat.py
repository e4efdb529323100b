"""filterd's heartbeat: a status row in filterd.db, rewritten every few seconds while DNS is
served, that Health and the home page's banner read (filterd.db.read.FilterdReader.heartbeat).

It carries what only the running daemon knows: that it is alive (the row's age), the share of
answers that were SERVFAIL over the last five minutes, each upstream's state (answering, not
answering, or answering SERVFAIL to everything), and the query-log entries lost since it
started. A clean stop writes one last row saying so, so Health says "not answering" at once;
after a crash the row simply stops being renewed.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable
from typing import Any

from filterd.dns.wire import SERVFAIL
from filterd.forward.upstream import Endpoint, Health

HEARTBEAT_KEY = "heartbeat"
HEARTBEAT_INTERVAL = 5.0  # seconds between rows; the dashboard allows several to be missed
SERVFAIL_WINDOW = 300.0  # seconds: "SERVFAIL share in the last five minutes"


class Heartbeat:
    """Builds each heartbeat row from the daemon's live counters (called on the event loop)."""

    def __init__(self, started: float) -> None:
        self.started = started
        self._answers: collections.deque[tuple[float, int, int]] = collections.deque()
        self._dropped = 0
        self._last_drop: float | None = None

    def row(
        self,
        wall: float,
        monotonic: float,
        answers: dict[tuple[int, Any], int],
        upstreams: Iterable[tuple[Endpoint, Health]],
        log_dropped: int,
        log_written: int,
        stopped: bool = False,
    ) -> dict[str, Any]:
        """The status value to write now (wall: the box's clock; monotonic: for backoff)."""
        total = sum(answers.values())
        servfail = sum(n for (rcode, _), n in answers.items() if rcode == SERVFAIL)
        self._answers.append((monotonic, total, servfail))
        while len(self._answers) > 1 and monotonic - self._answers[1][0] >= SERVFAIL_WINDOW:
            self._answers.popleft()
        _, total_then, servfail_then = self._answers[0]
        if log_dropped > self._dropped:
            self._last_drop = wall
        self._dropped = log_dropped
        return {
            "started": self.started,
            "stopped": stopped,
            "answers_5min": total - total_then,
            "servfail_5min": servfail - servfail_then,
            "upstreams": [
                {"name": endpoint.label, "state": upstream_state(health, monotonic)}
                for endpoint, health in upstreams
            ],
            "log_dropped": log_dropped,
            "log_written": log_written,
            "log_last_drop": self._last_drop,
        }


def upstream_state(health: Health, now: float) -> str:
    """answering, not_answering (timeouts, no route) or servfail (answers, resolves nothing).

    Not answering: in backoff, or several names failed in a row with no reply since (a backoff
    is short and ends by itself, but `failures` is only reset by a reply)."""
    if not health.answering(now):
        return "not_answering"
    return "servfail" if health.failing(now) else "answering"
