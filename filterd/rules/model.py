"""What a rules file says, as frozen values: children's profiles, devices and overrides.

Times of day are minutes after local midnight; instants (override expiries) are epoch seconds.
Domain sets hold wire-form names, matched against the query name and each of its parents.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from filterd.dns.block_answers import BlockStyle

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALLOW, DENY, ALWAYS = 1, 2, 4  # bits of Profile.marks
# Bits of Profile.service_rules: a carer's choices for one app (filterd.catalogue), by service id.
APP_BLOCKED, APP_ALLOWED, APP_SCHEDULED, APP_LIMITED = 1, 2, 4, 8
APP_CHOICES = ("allowed", "blocked")  # values of a child's `services` mapping in the rules file
ALL_DAYS = frozenset(range(7))


@dataclass(frozen=True, slots=True)
class Window:
    """Days and a time span; an end before the start runs past midnight into the next day.

    For offline windows `categories` is unused; for allowed_during it is the mask let through,
    and `services` the apps (catalogue ids) allowed only inside this child's windows.
    """

    days: frozenset[int]  # 0 = Monday
    start: int  # minutes after midnight
    end: int
    categories: int = 0
    services: frozenset[str] = frozenset()


class YouTube(enum.StrEnum):
    OFF = "off"
    MODERATE = "moderate"
    STRICT = "strict"


@dataclass(frozen=True, slots=True)
class SafeSearch:
    """One field per engine of filterd.rules.safe_search_names.SETTINGS, in its order (a unit
    test holds them equal)."""

    google: bool = True
    bing: bool = True
    duckduckgo: bool = True
    youtube: YouTube = YouTube.STRICT


NO_SAFE_SEARCH = SafeSearch(False, False, False, YouTube.OFF)


@dataclass(frozen=True, slots=True)
class Limits:
    """Daily limits in minutes; `categories` maps a category id to its limit, `services` an
    app's catalogue id to its own."""

    overall: int | None = None
    categories: dict[str, int] = field(default_factory=dict)
    reset: int = 0  # the time of day at which a new day of usage starts
    services: dict[str, int] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.overall is not None or bool(self.categories) or bool(self.services)


class OverrideKind(enum.StrEnum):
    PAUSE = "pause"  # everything blocked (but always_allow and helplines) until `until`
    EXTRA_TIME = "extra_time"  # `minutes` more on every limit, or on `category` and overall
    LIFT_BEDTIME = "lift_bedtime"  # offline windows do not apply until `until`
    # `site` (and its subdomains) allowed until `until`, as if on allow: a carer's yes to a
    # child's request for access; it ends by itself.
    ALLOW_SITE = "allow_site"


@dataclass(frozen=True, slots=True)
class Override:
    kind: OverrideKind
    until: float | None  # epoch seconds; None only for a pause that lasts until resumed
    minutes: int = 0
    category: str | None = None
    site: bytes | None = None  # allow_site: the name, wire form

    def active(self, now: float) -> bool:
        return self.until is None or now < self.until


@dataclass(frozen=True, slots=True)
class Profile:
    """Everything that decides a child's answers (after the age preset is applied)."""

    id: str
    name: str
    age_band: str
    block_mask: int
    allow: frozenset[bytes] = frozenset()
    deny: frozenset[bytes] = frozenset()
    always_allow: frozenset[bytes] = frozenset()
    offline: tuple[Window, ...] = ()
    allowed_during: tuple[Window, ...] = ()
    limits: Limits = field(default_factory=Limits)
    walled_garden: bool = False
    safe_search: SafeSearch = field(default_factory=SafeSearch)
    # None: the home's own style (the settings' blocked_answer), so an installed box whose home
    # answers with the block page shows it to a child too, unless the carer chose otherwise.
    blocked_answer: BlockStyle | None = None
    overrides: tuple[Override, ...] = ()
    counts_usage: bool = True  # False for the built-in profile of unknown devices
    services: dict[str, str] = field(default_factory=dict)  # app id -> "allowed" or "blocked"
    marks: dict[bytes, int] = field(init=False, repr=False, compare=False)
    service_rules: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # One dict for the three domain lists, so a query walks its name's suffixes once.
        marks: dict[bytes, int] = {}
        for names, bit in ((self.allow, ALLOW), (self.deny, DENY), (self.always_allow, ALWAYS)):
            for name in names:
                marks[name] = marks.get(name, 0) | bit
        object.__setattr__(self, "marks", marks)
        # One dict for every choice about apps, so a query for an app costs one lookup.
        rules: dict[str, int] = {}
        for service_id, choice in self.services.items():
            rules[service_id] = APP_BLOCKED if choice == "blocked" else APP_ALLOWED
        for window in self.allowed_during:
            for service_id in window.services:
                rules[service_id] = rules.get(service_id, 0) | APP_SCHEDULED
        for service_id in self.limits.services:
            rules[service_id] = rules.get(service_id, 0) | APP_LIMITED
        object.__setattr__(self, "service_rules", rules)


@dataclass(frozen=True, slots=True)
class Device:
    name: str
    owner: str | None  # a child id, or None for an adult's or the household's device
    mac: str | None = None  # lower case, colon separated
    ip: str | None = None  # canonical text form


HOUSEHOLD = "household"  # unknown_devices: the household rules only
UNKNOWN_DEVICES = "unknown_devices"  # the profile id (and query-log child) of unlisted devices
NO_OWNER = "none"  # a device owner: an adult's or the household's device
# Ids no child may have: each already means something else in the rules or the query log (a
# child called unknown_devices would be shown every unknown device's activity).
RESERVED_CHILD_IDS = frozenset({UNKNOWN_DEVICES, NO_OWNER, HOUSEHOLD})
STRICT = "strict"  # unknown_devices: the built-in strict profile


@dataclass(frozen=True, slots=True)
class Rules:
    timezone: ZoneInfo
    children: dict[str, Profile]
    devices: tuple[Device, ...]
    unknown: Profile | None  # the profile for devices not listed; None: household rules only
    emptied: frozenset[str] = frozenset()  # sections written `none`: emptied on purpose
