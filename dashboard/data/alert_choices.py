"""dashboard.db's alert_choices: the kinds of event each account chose to be told about.

Which kinds a role may choose, and the defaults, are dashboard.alerts.routing's; this module
only keeps the choice.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable


def chosen(db: sqlite3.Connection, user_id: int) -> set[str]:
    """The kinds stored for this account (with routing's CHOSEN marker once it chose)."""
    rows = db.execute("SELECT kind FROM alert_choices WHERE user_id = ?", (user_id,))
    return {row[0] for row in rows}


def replace(db: sqlite3.Connection, user_id: int, kinds: Iterable[str]) -> None:
    """The account's choice becomes exactly `kinds` (not committed: the caller commits)."""
    db.execute("DELETE FROM alert_choices WHERE user_id = ?", (user_id,))
    db.executemany(
        "INSERT INTO alert_choices (user_id, kind) VALUES (?, ?)",
        [(user_id, kind) for kind in sorted(kinds)],
    )
