"""A child's rules-file id, made from their name: people never type or see it.

filterd's parser accepts ids of lower-case ASCII letters, digits, `_` and `-` (at most 32), so
the name is folded to ASCII ("Zoë" -> "zoe"), apostrophes dropped ("O'Neil" -> "oneil") and
everything else between words becomes `-`. A name with no Latin letters at all ("Мария",
"陈") still gets a valid id ("child"); a taken or reserved id gets a number ("sam-2").
An id is taken for good once used: a child who left keeps theirs (their agreement, blocked
requests and name stay tied to it), so a new child with the same name gets "zoe-obrien-2".
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from collections.abc import Iterable

from dashboard.data import agreements, children_left
from filterd.rules.model import RESERVED_CHILD_IDS

MAX_ID = 32  # what filterd's parser accepts
_BASE_MAX = MAX_ID - 4  # room for "-999"
FALLBACK = "child"  # a name with nothing that folds to ASCII


def child_id(name: str, taken: set[str] | frozenset[str]) -> str:
    """A valid id for a child called `name`, not in `taken` nor reserved by filterd."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r"['`]+", "", ascii_name.lower())
    base = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")[:_BASE_MAX].strip("-") or FALLBACK
    unusable = set(taken) | RESERVED_CHILD_IDS
    found, number = base, 2
    while found in unusable:
        found, number = f"{base}-{number}", number + 1
    return found


def taken_ids(db: sqlite3.Connection, current: Iterable[str]) -> set[str]:
    """The ids a new child may not have: those in the rules, of children who left, and any
    with an agreement recorded (a new child must never open with someone else's)."""
    return set(current) | set(children_left.all_left(db)) | set(agreements.children(db))
