"""Daily usage per child, measured from DNS activity, one minute at a time.

A child is active in a minute when one of their devices asked for a name that is not
background noise (connectivity checks, push, time sync, telemetry: filterd/data/background.txt);
a category minute counts when a name in that category was asked in that minute, and an app
minute (keyed by the app's catalogue id) when one of the app's names was. Minutes are
counted once however many devices or queries there were. Counts live here, in memory, and are
written to SQLite by the daemon every few seconds, so they survive a restart.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from filterd.lists.categories import CATEGORIES
from filterd.lists.index import domain_to_wire
from filterd.lists.parse import parse_list
from filterd.rules.decide import OVERALL, listed

BACKGROUND_FILE = Path(__file__).resolve().parents[1] / "data" / "background.txt"
_COUNTED = tuple((c.id, 1 << c.bit) for c in CATEGORIES)


def load_background(path: Path = BACKGROUND_FILE) -> frozenset[bytes]:
    """Wire names whose lookups are devices talking to themselves, not a person using them."""
    return frozenset(domain_to_wire(d) for d in parse_list(path.read_text("utf-8")).blocked)


class UsageTracker:
    """Minutes used per (child, day), keyed by category id and OVERALL."""

    def __init__(self, background: frozenset[bytes]) -> None:
        self.background = background
        self.days: dict[tuple[str, str], dict[str, int]] = {}
        self.last: dict[tuple[str, str], int] = {}  # (child, key) -> last minute counted
        self.dirty: set[tuple[str, str]] = set()  # (child, day) to write out

    def today(self, child: str, day: str) -> dict[str, int]:
        return self.days.get((child, day), {})

    def note(
        self,
        child: str,
        qname: bytes,
        mask: int,
        minute: int,
        day: Callable[[], str],
        service: str = "",
    ) -> bool:
        """Count this query's minute; True when a count went up (limits may now be spent).

        `minute` is the epoch minute; `day()` names its usage day and is asked only when a
        count changes, since working it out means a time-zone conversion.
        """
        last = self.last
        if last.get((child, OVERALL)) == minute and not mask and not service:
            return False  # the common case: this minute is already counted
        if listed(qname, self.background):
            return False
        keys = [OVERALL] if last.get((child, OVERALL)) != minute else []
        if mask:
            keys += [
                cid for cid, bit in _COUNTED if mask & bit and last.get((child, cid)) != minute
            ]
        if service and last.get((child, service)) != minute:
            keys.append(service)
        if not keys:
            return False
        today = day()
        counts = self.days.setdefault((child, today), {})
        for key in keys:
            last[(child, key)] = minute
            counts[key] = counts.get(key, 0) + 1
        self.dirty.add((child, today))
        return True

    def restore(self, child: str, day: str, key: str, minutes: int, last_minute: int) -> None:
        """Adopt a count written before a restart (the larger count wins)."""
        counts = self.days.setdefault((child, day), {})
        counts[key] = max(counts.get(key, 0), minutes)
        if last_minute > self.last.get((child, key), -1):
            self.last[(child, key)] = last_minute

    def take_dirty(self) -> list[tuple[str, str, str, int, int]]:
        """Rows (day, child, key, minutes, last_minute) changed since the last call."""
        rows = []
        for child, day in self.dirty:
            for key, minutes in self.days.get((child, day), {}).items():
                rows.append((day, child, key, minutes, self.last.get((child, key), 0)))
        self.dirty.clear()
        return rows

    def forget_before(self, day: str) -> None:
        """Drop days older than `day` from memory (they stay in SQLite)."""
        for key in [k for k in self.days if k[1] < day]:
            del self.days[key]
