"""When the daemon next downloads its list sources.

Daily (refresh_hours) after the last update; but soon after a start on shipped lists only, soon
after the config names a source that has never been asked for, and within the hour after an
update in which a source failed, so one bad night does not leave a category a day older.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from filterd.lists.settings import BlocklistSettings
from filterd.text.redact import redact_url

FIRST_UPDATE_DELAY = 30.0  # after a start on shipped lists only, or a newly named source
RETRY_AFTER_FAILURE = 3600.0  # after an update in which a source failed


def next_update_in(
    status: Mapping[str, Any] | None, settings: BlocklistSettings, now: float
) -> float:
    """Seconds until the next update should start (0: now). Every wait counts from the last
    update's time, so asking again later gives a shorter wait, never the same one."""
    period = settings.lists_update.refresh_hours * 3600
    status = status or {}
    updated = status.get("updated")
    updated = float(updated) if isinstance(updated, int | float) else 0.0
    if not status.get("online") or unasked(status, settings):
        wait = min(FIRST_UPDATE_DELAY, period)  # the start's own build, from shipped lists
    elif status.get("failures"):
        wait = min(period, RETRY_AFTER_FAILURE)
    else:
        wait = period
    return max(updated + wait - now, 0.0)


def unasked(status: Mapping[str, Any], settings: BlocklistSettings) -> list[str]:
    """Configured sources (credentials hidden) the last online update did not ask for."""
    asked = {
        str(source.get("source"))
        for source in status.get("sources") or []
        if isinstance(source, dict) and source.get("status") != "offline"
    }
    return [
        redact_url(source)
        for sources in settings.lists.values()
        for source in sources
        if redact_url(source) not in asked
    ]
