"""How long filterd.db keeps each kind of record (README: "What is kept, and for how long").

Records are pruned by their writer and, between prunings, hidden by filterd.db.read, so a row
older than its retention is never shown even if pruning has not run yet.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

DEVICE_DAYS = 90  # a device not seen for this long is forgotten, with its addresses
USAGE_DAYS = 400  # minutes per child, category and day (no names): the monthly evidence
PRUNE_INTERVAL = 3600.0  # seconds between prunings by one writer


class Retention(NamedTuple):
    """Days each kind of record in filterd.db is kept."""

    activity_days: int  # query log and device events (query_log.retention_days)
    device_days: int = DEVICE_DAYS
    usage_days: int = USAGE_DAYS

    def activity_cutoff(self, now: float | None = None) -> float:
        """Unix time before which activity (queries, device events) is gone."""
        return (time.time() if now is None else now) - self.activity_days * 86_400

    def usage_cutoff(self, now: float | None = None) -> str:
        """The first usage day (YYYY-MM-DD) still kept; a day a little early in some time
        zones, never late."""
        since = (time.time() if now is None else now) - self.usage_days * 86_400
        moment = datetime.fromtimestamp(since, UTC) - timedelta(days=1)
        return moment.date().isoformat()

    def device_cutoff(self, now: float | None = None) -> float:
        return (time.time() if now is None else now) - self.device_days * 86_400
