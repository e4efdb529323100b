"""Each daily limit's allowance today with the extra time in force: the one place that adds
extra time to a limit, read by decide.situation (is it spent?) and by the dashboard (how many
minutes, shown as "40 of 90 minutes").

Extra time for everything extends every limit: the overall one, each category's and each app's.
Extra time for one category extends that category's limit and the overall one (time spent on
it is time online too), but no app's (an app is not a category).
"""

from __future__ import annotations

from typing import NamedTuple

from filterd.rules.model import OverrideKind, Profile


class ExtraTime(NamedTuple):
    """Minutes of extra time in force: for everything, and per category."""

    everything: int
    categories: dict[str, int]

    def total(self) -> int:
        """All of it: what the overall limit is extended by."""
        return self.everything + sum(self.categories.values())


class Allowances(NamedTuple):
    """Minutes allowed today per limit, extra time included; a limit not set is absent."""

    overall: int | None
    categories: dict[str, int]  # category id -> minutes
    services: dict[str, int]  # app's catalogue id -> minutes


def extra_time(profile: Profile, now: float) -> ExtraTime:
    """The extra_time overrides in force at `now`, added up."""
    everything = 0
    categories: dict[str, int] = {}
    for override in profile.overrides:
        if override.kind is not OverrideKind.EXTRA_TIME or not override.active(now):
            continue
        if override.category is None:
            everything += override.minutes
        else:
            categories[override.category] = categories.get(override.category, 0) + override.minutes
    return ExtraTime(everything, categories)


def allowances(profile: Profile, now: float) -> Allowances:
    """Each of the child's daily limits with the extra time in force at `now` added."""
    extra = extra_time(profile, now)
    limits = profile.limits
    return Allowances(
        None if limits.overall is None else limits.overall + extra.total(),
        {
            category: minutes + extra.everything + extra.categories.get(category, 0)
            for category, minutes in limits.categories.items()
        },
        {service: minutes + extra.everything for service, minutes in limits.services.items()},
    )
