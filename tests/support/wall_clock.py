"""Wall-clock times in the home's zone (Europe/London), for tests that move filterd's wall
clock through $FILTERD_CLOCK_FILE: rules are written in the home's local time, so a test names
the moment as a carer would and gets the epoch seconds the daemon compares against."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def london(text: str) -> float:
    """Epoch seconds of a wall-clock time in Europe/London ("2026-11-23 20:30")."""
    return datetime.fromisoformat(text).replace(tzinfo=LONDON).timestamp()
