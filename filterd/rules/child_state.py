"""One profile in force in the daemon: its situation, kept until it next changes."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from filterd.rules.decide import OVERALL, Situation, situation
from filterd.rules.model import Profile
from filterd.rules.schedule import usage_day
from filterd.rules.usage import UsageTracker

# The longest any answer to a child's device lives: a pause or a rules edit reaches names the
# device already looked up within a minute, and a device in use keeps asking, so its minutes
# count towards daily limits.
CHILD_MAX_TTL = 60
PROVISIONAL_TTL = 5  # an address whose device is not known yet: ask again very soon


class ChildState:
    """Recomputes what is in force only at the next edge, override expiry or usage change."""

    __slots__ = (
        "counted",
        "max_ttl",
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
        max_ttl: int = CHILD_MAX_TTL,
    ) -> None:
        self.profile = profile
        self.max_ttl = max_ttl
        # safe search: engine name -> its safe name (filterd.policy.safesearch)
        self.rewrites = rewrites
        self.counted = -1  # the epoch minute already counted as active
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
        if cap > self.max_ttl:
            return self.max_ttl
        return cap if cap > 0 else 0

    def note_usage(self, qname: bytes, mask: int, now: float, service: str = "") -> None:
        """Count this minute as used; a new count may spend a limit, so look again."""
        minute = int(now // 60)
        if minute == self.counted and not mask and not service:
            return  # most queries: this minute is already counted
        profile = self.profile
        if not profile.counts_usage:
            return
        tracker = self.tracker
        if tracker.note(
            profile.id,
            qname,
            mask,
            minute,
            lambda: usage_day(now, profile.limits.reset, self.tz),
            service,
        ):
            self.until = 0.0
        if tracker.last.get((profile.id, OVERALL)) == minute:
            self.counted = minute
