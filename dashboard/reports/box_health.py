""" "The box" in a digest or the monthly report: how the filtering itself held up in the period.

A safeguarding lead reading that nothing was blocked needs to know whether the box was
filtering at all: every upstream failing, lists going stale, the illegal-content source
removed, a self-test that found something not blocked, a rules file refused. Read from the
period's events (filterd's event log) and each category's list freshness
(dashboard.data.list_health), in plain words.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from dashboard.data.list_health import ListHealth
from filterd.db.events import Event
from filterd.events.kinds import (
    LISTS_ILLEGAL_SOURCE_REMOVED,
    LISTS_STALE,
    RULES_REFUSED,
    SELFTEST_FAILED,
    UPSTREAM_ALL_FAILING,
    UPSTREAM_RECOVERED,
)

# What each kind means for the box, in the words a report uses; the first time follows.
SAID = {
    UPSTREAM_ALL_FAILING.name: "Every upstream DNS server failed (sites did not open)",
    UPSTREAM_RECOVERED.name: "The upstream DNS servers answered again",
    LISTS_STALE.name: "The blocklists were out of date (the older copies kept blocking)",
    LISTS_ILLEGAL_SOURCE_REMOVED.name: "The illegal-content list was removed from the settings",
    SELFTEST_FAILED.name: "The filter self-test found something not blocked",
    RULES_REFUSED.name: "A rules file was refused (the rules in force stayed)",
}
BOX_KINDS = tuple(SAID)


def box_lines(events: Iterable[Event], lists: ListHealth | None, tz: ZoneInfo) -> list[str]:
    """One line per kind of trouble in the period (how often, first and last time), then
    each category's list freshness."""
    seen: dict[str, list[float]] = {}
    for event in events:
        if event.kind in SAID:
            seen.setdefault(event.kind, []).append(event.ts)
    lines = []
    for kind, said in SAID.items():
        times = sorted(seen.get(kind, ()))
        if not times:
            continue
        first = f"{datetime.fromtimestamp(times[0], tz):%d %b %H:%M}"
        if len(times) == 1:
            lines.append(f"{said}: {first}.")
        else:
            last = f"{datetime.fromtimestamp(times[-1], tz):%d %b %H:%M}"
            lines.append(f"{said}: {len(times)} times, first {first}, last {last}.")
    if not lines:
        lines.append(
            "No trouble recorded: the upstream DNS servers answered, the lists were kept up to"
            " date, no self-test found anything unblocked and no rules file was refused."
        )
    if lists is None:
        lines.append("Blocklists: filterd has not built its lists yet.")
        return lines
    for row in lists.rows:
        state = "; out of date" if row.stale else ""
        thin = "; nearly empty" if row.thin else ""
        lines.append(f"Blocklist {row.label}: {row.domains:,} sites, {row.updated}{state}{thin}.")
    return lines
