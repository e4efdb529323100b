"""How old the lists in force are: one rule for Health's "out of date" and the stale-lists
event. Judged per source by its last good download (status.json's succeeded_at), not by when
the index was last built: a build runs after every attempt, failed downloads included."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

STALE_DAYS = 3
STALE_SECONDS = STALE_DAYS * 86_400


def last_good(source: Mapping[str, Any]) -> float | None:
    """When the source last downloaded well (None: never)."""
    value = source.get("succeeded_at")
    return float(value) if isinstance(value, int | float) else None


def is_stale(source: Mapping[str, Any], now: float) -> bool:
    """No good download for more than STALE_DAYS: counted from the last one, or, for a source
    never downloaded, from filterd's first try (a source just added is not stale)."""
    since = last_good(source)
    if since is None:
        first = source.get("first_checked_at")
        since = float(first) if isinstance(first, int | float) else now
    return now - since > STALE_SECONDS
