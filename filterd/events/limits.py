"""Spent daily limits, raised as `limit.spent` once per child, limit and usage day.

A limit is spent when the child's situation says so (filterd.rules.decide.situation, the same
rule that blocks): the overall limit, a category's or an app's. The daemon looks every few
seconds; the keys already raised are read back from the event log at start, so a restart
raises none twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from filterd.db.events import Event
from filterd.events.kinds import LIMIT_SPENT
from filterd.lists.categories import ids_of
from filterd.rules.decide import OVERALL, situation
from filterd.rules.model import Rules
from filterd.rules.schedule import usage_day
from filterd.rules.usage import UsageTracker

LOOK_BACK = 2 * 86_400  # events read at start: a usage day is at most this old


class SpentLimits:
    def __init__(self, emit: Callable[..., None], earlier: Iterable[Event] = ()) -> None:
        self.emit = emit
        self.raised: set[tuple[str, str, str]] = {
            (event.child, str(event.data.get("limit", "")), str(event.data.get("day", "")))
            for event in earlier
        }

    def check(self, rules: Rules | None, tracker: UsageTracker, now: float) -> None:
        """Raise an event for each limit spent today that has not been raised yet."""
        if rules is None:
            return
        for child, profile in rules.children.items():
            limits = profile.limits
            if not limits or not profile.counts_usage:
                continue
            day = usage_day(now, limits.reset, rules.timezone)
            found = situation(profile, tracker.today(child, day), now, rules.timezone)
            spent = [OVERALL] if found.overall_spent else []
            spent += ids_of(found.spent_mask) + sorted(found.spent_services)
            for limit in spent:
                key = (child, limit, day)
                if key in self.raised:
                    continue
                self.raised.add(key)
                app = limit in limits.services
                categories = [] if limit == OVERALL or app else [limit]
                data = {"limit": limit, "day": day, "categories": categories, "app": app}
                self.emit(LIMIT_SPENT, child=child, data=data, ts=now)
        if len(self.raised) > 10_000:  # days long past: forget them
            newest = max(key[2] for key in self.raised)
            self.raised = {key for key in self.raised if key[2] >= newest}
