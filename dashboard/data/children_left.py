"""Children who have left the home (dashboard.db): their name, when, who removed them and why.

Their rules are gone from the rules file, but their blocked requests, activity and reviews are
kept until each one's retention ends; this lets the blocked log and the export still name them
("Sam (left the home)") instead of showing an id.
"""

from __future__ import annotations

import sqlite3
import time
from typing import NamedTuple

from filterd.rules.model import UNKNOWN_DEVICES


class ChildLeft(NamedTuple):
    child: str
    name: str
    left_at: float
    removed_by: str
    reason: str


def record(db: sqlite3.Connection, child: str, name: str, who: str, reason: str) -> None:
    db.execute(
        "INSERT INTO children_left (child, name, left_at, removed_by, reason)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (child) DO UPDATE SET name = excluded.name,"
        " left_at = excluded.left_at, removed_by = excluded.removed_by, reason = excluded.reason",
        (child, name, time.time(), who, reason),
    )
    db.commit()


def all_left(db: sqlite3.Connection) -> dict[str, ChildLeft]:
    rows = db.execute("SELECT child, name, left_at, removed_by, reason FROM children_left")
    return {row[0]: ChildLeft(*row) for row in rows}


VISITOR_WORDS = "Not assigned (a visitor's device)"


def names(db: sqlite3.Connection, current: dict[str, str]) -> dict[str, str]:
    """{child id: name} for the children in the rules, then those who left ("Sam (left)")."""
    found = {child: f"{left.name} (left the home)" for child, left in all_left(db).items()}
    found.update(current)  # a child back in the rules under the same id is named as they are
    # filterd logs an unlisted device's answers under the unknown-devices profile's id.
    found.setdefault(UNKNOWN_DEVICES, VISITOR_WORDS)
    return found
