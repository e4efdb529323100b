"""What people decided about devices the rules do not list (dashboard.db).

A device in the rules has its owner and name there. One that is not listed is filtered as the
home's `unknown_devices` choice says, and stays "new" on the Devices page until someone decides:
a visitor's device (still filtered as unknown, no longer new), or removed (hidden until it is
seen again after the removal), or kept (its child left the home and the carer kept it on the
list, not assigned: listed even when filterd has not seen it, so its record stays). A name
given to a device the rules do not list is kept here too, and goes into its rules entry when
it is assigned.
"""

from __future__ import annotations

import sqlite3
import time
from typing import NamedTuple

VISITOR = "visitor"
REMOVED = "removed"
KEPT = "kept"  # a leaving child's device, kept on the list unassigned


class Decision(NamedTuple):
    device: str  # a MAC, or an address for a device known only by it
    decision: str  # VISITOR, REMOVED, KEPT or '' (a name only)
    name: str
    decided_by: str
    decided: float


def all_decisions(db: sqlite3.Connection) -> dict[str, Decision]:
    """{device: decision} for every device someone decided about."""
    rows = db.execute("SELECT device, decision, name, decided_by, decided FROM device_decisions")
    return {row[0]: Decision(*row) for row in rows}


def record(
    db: sqlite3.Connection, device: str, decision: str, who: str, name: str | None = None
) -> None:
    """Record a decision (keeping a name given earlier unless `name` replaces it)."""
    db.execute(
        "INSERT INTO device_decisions (device, decision, name, decided_by, decided)"
        " VALUES (?, ?, coalesce(?, ''), ?, ?) ON CONFLICT (device) DO UPDATE SET"
        " decision = excluded.decision, name = coalesce(?, name),"
        " decided_by = excluded.decided_by, decided = excluded.decided",
        (device, decision, name, who, time.time(), name),
    )
    db.commit()


def forget(db: sqlite3.Connection, device: str) -> None:
    """The device is in the rules now: what was decided here no longer applies."""
    db.execute("DELETE FROM device_decisions WHERE device = ?", (device,))
    db.commit()
