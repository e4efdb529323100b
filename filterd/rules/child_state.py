"""One profile in force in the daemon: its situation, kept until it next changes."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from filterd.rules.decide import OVERALL, Situation, listed, situation
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
        "counted_apps",
        "counted_mask",
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
        # safe search: engine name -> its safe name (filterd.rules.safe_search_names)
        self.rewrites = rewrites
        self.counted = -1  # the epoch minute already counted as active
        self.counted_mask = 0  # categories already counted in that minute
        self.counted_apps: set[str] = set()  # apps already counted in that minute
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
        if (
            minute == self.counted
            and not mask & ~self.counted_mask
            and (not service or service in self.counted_apps)
        ):
            return  # most queries: this minute, its categories and its app are counted
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
            if self.counted != minute:
                self.counted, self.counted_mask, self.counted_apps = minute, 0, set()
            if not listed(qname, tracker.background):  # background names count nothing
                self.counted_mask |= mask
                if service:
                    self.counted_apps.add(service)
