"""One profile in force in the daemon: its situation, kept until it next changes."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from filterd.rules.decide import OVERALL, Situation, situation
from filterd.rules.model import Profile
from filterd.rules.schedule import usage_day
from filterd.rules.usage import UsageTracker

MEASURING_TTL = 60  # with a daily limit, devices re-ask each minute they stay active


class ChildState:
    """Recomputes what is in force only at the next edge, override expiry or usage change."""

    __slots__ = (
        "counted",
        "limited",
        "profile",
        "rewrites",
        "since",
        "situation",
        "tracker",
        "tz",
        "until",
    )

    def __init__(
        self,
        profile: Profile,
        tz: ZoneInfo,
        tracker: UsageTracker,
        rewrites: dict[bytes, bytes],
    ) -> None:
        self.profile = profile
        self.rewrites = rewrites  # safe search: engine name -> its safe name (filterd.safesearch)
        self.counted = -1  # the epoch minute already counted as active
        self.limited = bool(profile.limits)
        self.tz = tz
        self.tracker = tracker
        self.until = 0.0
        self.since = 0.0
        self.situation: Situation | None = None

    def now(self, now: float) -> Situation:
        # A clock set back (a Pi has no real-time clock until NTP answers) also recomputes.
        if now >= self.until or now < self.since or self.situation is None:
            profile = self.profile
            today = usage_day(now, profile.limits.reset, self.tz)
            found = situation(profile, self.tracker.today(profile.id, today), now, self.tz)
            self.situation = found
            self.since = now
            self.until = found.until
        return self.situation

    def ttl_cap(self, now: float) -> int:
        """Seconds an answer may live: never past the next change of this child's rules."""
        cap = int(self.until - now)
        if cap > MEASURING_TTL and self.limited:
            return MEASURING_TTL
        return cap if cap > 0 else 0

    def note_usage(self, qname: bytes, mask: int, now: float) -> None:
        """Count this minute as used; a new count may spend a limit, so look again."""
        minute = int(now // 60)
        if minute == self.counted and not mask:
            return  # most queries: this minute is already counted
        profile = self.profile
        if not profile.counts_usage:
            return
        tracker = self.tracker
        if tracker.note(
            profile.id, qname, mask, minute, lambda: usage_day(now, profile.limits.reset, self.tz)
        ):
            self.until = 0.0
        if tracker.last.get((profile.id, OVERALL)) == minute:
            self.counted = minute
