"""System events that no single query shows: every upstream failing, blocklists gone stale.

Each check is a small state machine called every few seconds by the daemon: it raises an event
when the condition starts (and, for upstreams, when it ends), never once a tick while it lasts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from filterd.events.kinds import LISTS_STALE, UPSTREAM_ALL_FAILING, UPSTREAM_RECOVERED
from filterd.lists.freshness import STALE_DAYS, is_stale
from filterd.text.redact import redact_url

Emit = Callable[..., None]  # EventRecorder.emit(kind, child="", device="", data=None)
STALE_AFTER_MISSED = 2  # a list is stale after this many refresh periods without an update
FAILING_STATUSES = frozenset({"failed"})


class UpstreamWatch:
    """All upstreams unusable at once: the home cannot resolve anything new."""

    def __init__(self, emit: Emit) -> None:
        self.emit = emit
        self.failing = False

    def check(self, usable: Mapping[str, bool]) -> None:
        """usable: each upstream's label and whether it is answering now (Health.answering:
        a real reply since its failures, not merely out of backoff), so `recovered` means an
        upstream really answered."""
        if not usable:
            return
        all_failing = not any(usable.values())
        if all_failing and not self.failing:
            self.emit(UPSTREAM_ALL_FAILING, data={"upstreams": sorted(usable)})
        elif self.failing and not all_failing:
            answering = sorted(label for label, ok in usable.items() if ok)
            self.emit(UPSTREAM_RECOVERED, data={"upstreams": answering})
        self.failing = all_failing


class ListsWatch:
    """Blocklists that failed to download or have not been refreshed for too long."""

    def __init__(self, emit: Emit) -> None:
        self.emit = emit
        self.reported: tuple = ()

    def check(
        self, status: Mapping[str, Any] | None, refresh_hours: float, now: float | None = None
    ) -> None:
        now = time.time() if now is None else now
        problems = stale_problems(status, refresh_hours, now)
        key = tuple((p["category"], p["source"], p["problem"]) for p in problems)
        if key and key != self.reported:
            self.emit(LISTS_STALE, data={"sources": problems})
        self.reported = key


def stale_problems(
    status: Mapping[str, Any] | None, refresh_hours: float, now: float
) -> list[dict[str, str]]:
    """What is wrong with the last update's sources, in plain words (empty: nothing)."""
    if not status:
        return []
    problems = []
    for source in status.get("sources", []):
        if source.get("status") in FAILING_STATUSES:
            problems.append(
                {
                    "category": source.get("category", ""),
                    "source": source.get("source", ""),
                    "problem": source.get("reason") or "the last download failed",
                }
            )
        if is_stale(source, now):  # failing for days, though the index is rebuilt each time
            problems.append(
                {
                    "category": source.get("category", ""),
                    "source": source.get("source", ""),
                    "problem": f"no good download for more than {STALE_DAYS} days",
                }
            )
    updated = float(status.get("updated", 0) or 0)
    if refresh_hours > 0 and status.get("sources"):
        overdue = now - updated > STALE_AFTER_MISSED * refresh_hours * 3600
        if overdue:
            hours = int((now - updated) // 3600)
            problems.append(
                {
                    "category": "",
                    "source": "",
                    "problem": f"the lists were last updated {hours} hours ago",
                }
            )
    return problems


def removed_illegal_sources(
    old: Mapping[str, tuple[str, ...]], new: Mapping[str, tuple[str, ...]]
) -> list[str]:
    """Illegal-content sources the old config had and the new one does not, as they may be
    logged and sent on (credentials hidden)."""
    kept = set(new.get("illegal", ()))
    return [redact_url(source) for source in old.get("illegal", ()) if source not in kept]
