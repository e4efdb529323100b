"""Is filterd applying the rules as saved? What the home page says when it is not.

filterd records its last check of the rules file in filterd.db's status table: whether it
accepted it and the sha256 of the bytes it read, which is the dashboard's version of the same
file. When they differ for longer than filterd takes to pick up a save, or filterd refused the
file, a pause or extra time "saved" here is not what DNS does, and carers must be told.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

GRACE = 5.0  # seconds: filterd applies a save within 2 s and writes its status at once

REFUSED = (
    "filterd is not applying the saved rules: it refused them, and keeps applying the last"
    " rules it accepted. Changes made since then, pauses and extra time included, are not in"
    " force. An administrator can see why on the Health page."
)
NO_REPORT = (
    "filterd has not reported on the rules yet. If it is not running, the rules saved here"
    " (pauses and extra time included) are not in force."
)


def not_applied(
    status: dict | None, version: str, saved_at: float | None, now: float, tz: ZoneInfo
) -> str | None:
    """A sentence for carers when filterd is not applying the rules file as it is now."""
    if status is None:
        return NO_REPORT
    seen = status.get("version")
    if seen == version or (seen is None and (saved_at or 0) <= status.get("checked", 0)):
        return None if status.get("ok") else REFUSED
    if saved_at is not None and now - saved_at < GRACE:
        return None  # just saved: filterd is picking it up
    when = datetime.fromtimestamp(saved_at, tz).strftime("%H:%M") if saved_at else "last"
    return (
        f"filterd has not picked up the rules saved at {when}: is it running? Until it does,"
        " changes made since then, pauses and extra time included, are not in force."
    )
