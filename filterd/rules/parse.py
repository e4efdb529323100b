"""Read and validate a rules file into frozen Rules, reporting every problem by its key path.

Paths name children by id, so a carer reads `children.sam.offline[0].start: expected HH:MM,
got '9pm'`. Unknown keys and categories are refused; nothing falls back silently. The same
code checks a file for `filterd check-config`, for the running daemon and for the dashboard.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import re
from datetime import date, datetime
from pathlib import Path
from stat import S_ISREG
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from filterd.catalogue.load import CatalogueError, shipped_catalogue
from filterd.catalogue.model import EMPTY, Catalogue
from filterd.dns.block_answers import BlockStyle
from filterd.lists.categories import ALWAYS_BLOCKED, BY_ID, mask_of
from filterd.lists.index import domain_to_wire
from filterd.lists.parse import normalise_domain
from filterd.rules.guards import END_KEY, NONE_WORD, cut_short_problems
from filterd.rules.model import (
    APP_CHOICES,
    DAYS,
    HOUSEHOLD,
    NO_OWNER,
    NO_SAFE_SEARCH,
    RESERVED_CHILD_IDS,
    STRICT,
    UNKNOWN_DEVICES,
    Device,
    Limits,
    Override,
    OverrideKind,
    Profile,
    Rules,
    SafeSearch,
    Window,
    YouTube,
)
from filterd.rules.presets import AGE_BANDS, PRESETS, STRICT_PRESET, Preset
from filterd.rules.safe_search_names import ENGINE_KEYS, SETTING_KEYS
from filterd.rules.yaml_loader import load_plain
from filterd.text.people import name_problem, text_problem
from filterd.validate import ConfigError, Validator, read_mapping, show

DEFAULT_TIMEZONE = "Europe/London"
MAX_RULES_BYTES = 4 * 1024 * 1024  # far above any home's rules; refuses a runaway file
MAX_NAME = 64  # a child's or a device's name, in characters
MAX_NOTE = 200  # an override's note
TOP_KEYS = {"timezone", "unknown_devices", "children", "devices", END_KEY}
CHILD_KEYS = {
    "name",
    "age_band",
    "block_categories",
    "allow",
    "deny",
    "always_allow",
    "offline",
    "allowed_during",
    "limits",
    "walled_garden",
    "safe_search",
    "blocked_answer",
    "overrides",
    "services",
}
DAY_GROUPS = {
    "every_day": frozenset(range(7)),
    "weekdays": frozenset(range(5)),
    "weekends": frozenset({5, 6}),
    "school_nights": frozenset({6, 0, 1, 2, 3}),
    "weekend_nights": frozenset({4, 5}),
}
FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_HHMM = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")
_DURATION = re.compile(r"(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?")
_MAC = re.compile(r"[0-9a-f]{2}([:-])[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}")
_CHILD_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")


def instant_of(raw: Any, tz: ZoneInfo) -> float | None:
    """Epoch seconds of an override's `until`: "YYYY-MM-DD HH:MM" in the home's time zone `tz`,
    an ISO time with an offset, or a YAML date/time; None when it is none of these. The one
    reading of `until`, for filterd and for the dashboard's tidying of expired overrides."""
    moment = raw
    if isinstance(raw, str):
        try:
            moment = datetime.fromisoformat(raw.strip())
        except ValueError:
            return None
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=tz)
        return moment.timestamp()
    if isinstance(raw, date):
        return datetime(raw.year, raw.month, raw.day, tzinfo=tz).timestamp()
    return None


def override_expired(raw: Any, tz: ZoneInfo, now: float) -> bool:
    """Whether a raw override (a mapping from the rules file) has run out at `now`; one without
    a readable `until` has not (a pause until resumed, or one the parser will refuse)."""
    if not isinstance(raw, dict):
        return False
    until = instant_of(raw.get("until"), tz) if raw.get("until") is not None else None
    return until is not None and until <= now


@functools.cache
def named_time_zones() -> frozenset[str]:
    """The time zones a home can be in: the tz database's named zones, without the box's own
    `localtime` (it changes with the box), `Factory` (no offset anyone uses) and the
    leap-second `right/` and `posix/` copies, which ZoneInfo opens but no clock follows."""
    return frozenset(available_timezones()) - {"localtime", "Factory"}


class RulesError(ConfigError):
    """The rules file was refused; `problems` lists each as `key.path: reason`."""


def load_rules(path: Path, catalogue: Catalogue | None = None) -> Rules:
    """Read and validate a whole rules file; raise RulesError listing every problem.

    Apps named in it are checked against `catalogue` (the shipped one when None)."""
    try:
        data = read_rules_file(path)
    except OSError as err:
        raise RulesError([f"(file): cannot read: {err.strerror}"]) from None
    return parse_rules_bytes(data, catalogue)


def read_rules_file(path: Path) -> bytes:
    """The file's bytes (at most one more than the size cap), only from a regular file and
    opened without blocking: a FIFO there would hold the reader, and with it every later
    change, for ever."""
    with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC), "rb") as file:
        if not S_ISREG(os.fstat(file.fileno()).st_mode):
            raise RulesError(["(file): not a regular file (a named pipe or a device?)"])
        return file.read(MAX_RULES_BYTES + 1)


def parse_rules_bytes(data: bytes, catalogue: Catalogue | None = None) -> Rules:
    """The one check every reader and writer of the rules file makes (filterd's watcher,
    check-config, the dashboard's save): the size cap, UTF-8, then parse_rules_file."""
    if len(data) > MAX_RULES_BYTES:
        raise RulesError([f"(file): larger than {MAX_RULES_BYTES // 1024} KiB"])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise RulesError([f"(file): not UTF-8 text (byte {err.start + 1})"]) from None
    return parse_rules_file(text, catalogue)


def parse_rules_file(text: str, catalogue: Catalogue | None = None) -> Rules:
    """A whole rules file: refused when it does not end with `end_of_rules: true` (cut short)."""
    problems = cut_short_problems(text)
    if problems:
        raise RulesError(problems)
    return parse_rules(text, catalogue)


def parse_rules(text: str, catalogue: Catalogue | None = None) -> Rules:
    """The rules in YAML text; a whole file also needs parse_rules_file's end check."""
    raw = read_mapping(text, load_plain, RulesError)
    reader = _RulesReader(catalogue if catalogue is not None else _shipped())
    rules = reader.rules(raw)
    if reader.problems:
        raise RulesError(reader.problems)
    return rules


def _shipped() -> Catalogue:
    try:
        return shipped_catalogue()
    except CatalogueError:  # a broken shipped catalogue: no app can be named, rules still load
        return EMPTY


class _RulesReader(Validator):
    """Converts raw YAML values into Rules, collecting problems as it goes."""

    def __init__(self, catalogue: Catalogue) -> None:
        super().__init__()
        self.catalogue = catalogue

    def rules(self, raw: dict[str, Any]) -> Rules:
        self.mapping(raw, "", TOP_KEYS)
        if "children" not in raw:  # an empty or cut-short file must not drop every child
            self.fail("children", "required (write `children: {}` for a home with none)")
        if raw.get(END_KEY, True) is not True:
            self.fail(END_KEY, f"expected true, got {show(raw[END_KEY])}")
        tz = self.timezone(raw.get("timezone", DEFAULT_TIMEZONE))
        children: dict[str, Profile] = {}
        emptied = frozenset(k for k in ("children", "devices") if raw.get(k) == NONE_WORD)
        raw_children = {} if "children" in emptied else raw.get("children")
        raw_children = self.mapping(raw_children, "children", None)
        for child_id, body in raw_children.items():
            path = f"children.{child_id}"
            if not isinstance(child_id, str) or not _CHILD_ID.fullmatch(child_id):
                self.fail(path, "ids are lower-case letters, digits, _ and - (at most 32)")
                continue
            if child_id in RESERVED_CHILD_IDS:
                self.fail(path, f"{child_id!r} is reserved by filterd; choose another id")
                continue
            profile = self.child(child_id, body, path, tz)
            if profile is not None:
                children[child_id] = profile
        raw_devices = [] if "devices" in emptied else raw.get("devices", [])
        devices = self.devices(raw_devices, raw_children)
        unknown = self.unknown(raw.get("unknown_devices", STRICT))
        return Rules(tz, children, devices, unknown, emptied)

    def mapping(self, raw: Any, path: str, known: set[str] | None) -> dict[Any, Any]:
        """Like Validator.mapping; known=None accepts any key (children are keyed by id), which
        is Validator.section's shape check."""
        if known is not None:
            return super().mapping(raw, path, known)
        return self.section(raw, path)

    def timezone(self, raw: Any) -> ZoneInfo:
        try:
            if isinstance(raw, str) and raw in named_time_zones():
                return ZoneInfo(raw)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # "Europe" is a directory
            pass
        self.fail(
            "timezone",
            f"unknown time zone {show(raw)} (a region and a city, for example Europe/London)",
        )
        return ZoneInfo(DEFAULT_TIMEZONE)

    def unknown(self, raw: Any) -> Profile | None:
        if not isinstance(raw, str):
            raw = show(raw)  # a list or mapping: refused below with what was written
        if raw == HOUSEHOLD:
            return None
        if raw == STRICT:
            return preset_profile(UNKNOWN_DEVICES, STRICT_PRESET, counts_usage=False)
        if raw in PRESETS:
            return preset_profile(UNKNOWN_DEVICES, PRESETS[raw], counts_usage=False)
        choices = ", ".join((STRICT, HOUSEHOLD, *AGE_BANDS))
        self.fail("unknown_devices", f"expected one of {choices}, got {show(raw)}")
        return preset_profile(UNKNOWN_DEVICES, STRICT_PRESET, counts_usage=False)

    def child(self, child_id: str, raw: Any, path: str, tz: ZoneInfo) -> Profile | None:
        raw = self.mapping(raw, path, CHILD_KEYS)
        band = raw.get("age_band")
        if not isinstance(band, str) or band not in PRESETS:
            self.fail(
                f"{path}.age_band", f"expected one of {', '.join(AGE_BANDS)}, got {show(band)}"
            )
            return None
        preset = PRESETS[band]
        name = raw.get("name", child_id)
        if not isinstance(name, str) or not name.strip():
            self.fail(f"{path}.name", f"expected the child's name, got {show(name)}")
            name = child_id
        elif (problem := name_problem(name, MAX_NAME)) is not None:
            self.fail(f"{path}.name", problem)
            name = child_id
        categories = raw.get("block_categories")
        block_mask = preset.block_mask
        if categories is not None:
            block_mask = mask_of(self.categories(categories, f"{path}.block_categories"))
        walled = raw.get("walled_garden", False)
        if not isinstance(walled, bool):
            self.fail(f"{path}.walled_garden", f"expected true or false, got {show(walled)}")
            walled = False
        offline = preset.offline
        if "offline" in raw:
            offline = self.windows(raw["offline"], f"{path}.offline", with_categories=False)
        style_text = raw.get("blocked_answer")
        style: BlockStyle | None = None  # unset: the home's style
        try:
            style = None if style_text is None else BlockStyle(style_text)
        except ValueError:
            styles = ", ".join(s.value for s in BlockStyle)
            self.fail(f"{path}.blocked_answer", f"expected one of {styles}, got {show(style_text)}")
        allowed_during = self.windows(
            raw.get("allowed_during", []), f"{path}.allowed_during", with_categories=True
        )
        limits = self.limits(raw.get("limits"), f"{path}.limits")
        services = self.services(raw.get("services", {}), f"{path}.services")
        scheduled = {s for window in allowed_during for s in window.services}
        for service_id, choice in services.items():
            if choice == "blocked" and (service_id in scheduled or service_id in limits.services):
                self.fail(
                    f"{path}.services.{service_id}",
                    "blocked, but also given allowed times or a daily limit: choose one",
                )
        return Profile(
            id=child_id,
            name=name.strip(),
            age_band=band,
            block_mask=block_mask | mask_of(ALWAYS_BLOCKED),
            allow=self.domains(raw.get("allow", []), f"{path}.allow"),
            deny=self.domains(raw.get("deny", []), f"{path}.deny"),
            always_allow=self.domains(raw.get("always_allow", []), f"{path}.always_allow"),
            offline=offline,
            allowed_during=allowed_during,
            limits=limits,
            services=services,
            walled_garden=walled,
            safe_search=self.safe_search(raw.get("safe_search"), f"{path}.safe_search", preset),
            blocked_answer=style,
            overrides=self.overrides(raw.get("overrides", []), f"{path}.overrides", tz),
        )

    def categories(self, raw: Any, path: str) -> list[str]:
        if not isinstance(raw, list):
            self.fail(path, f"expected a list of category ids, got {show(raw)}")
            return []
        found = []
        for i, item in enumerate(raw):
            if isinstance(item, str) and item in BY_ID:
                found.append(item)
            else:
                self.fail(
                    f"{path}[{i}]", f"unknown category {show(item)} (known: {', '.join(BY_ID)})"
                )
        return found

    def service_id(self, raw: Any, path: str) -> str | None:
        """A catalogue id, or None after saying it is unknown."""
        if isinstance(raw, str) and raw in self.catalogue.services:
            return raw
        self.fail(path, f"unknown app {show(raw)} (the Apps page lists every app filterd knows)")
        return None

    def services(self, raw: Any, path: str) -> dict[str, str]:
        """The carer's choice for each app named: allowed or blocked."""
        if not isinstance(raw, dict):
            self.fail(path, f"expected a mapping of app: allowed or blocked, got {show(raw)}")
            return {}
        found = {}
        for key, choice in raw.items():
            service_id = self.service_id(key, f"{path}.{key}")
            if service_id is None:
                continue
            if choice not in APP_CHOICES:
                self.fail(
                    f"{path}.{key}",
                    f"expected allowed or blocked, got {show(choice)} (for set hours use"
                    " allowed_during, for a daily limit use limits)",
                )
                continue
            found[service_id] = choice
        return found

    def domains(self, raw: Any, path: str) -> frozenset[bytes]:
        if not isinstance(raw, list):
            self.fail(path, f"expected a list of domains, got {show(raw)}")
            return frozenset()
        names = set()
        for i, item in enumerate(raw):
            domain = normalise_domain(item) if isinstance(item, str) else None
            if domain is None:
                self.fail(f"{path}[{i}]", f"not a domain name: {show(item)}")
            else:
                names.add(domain_to_wire(domain))
        return frozenset(names)

    def time_of_day(self, raw: Any, path: str, midnight_end: bool = False) -> int | None:
        """Minutes after midnight from HH:MM; an end may be 24:00 (the next midnight)."""
        if midnight_end and raw == "24:00":
            return 0
        match = _HHMM.fullmatch(raw.strip()) if isinstance(raw, str) else None
        if match is None:
            self.fail(path, f"expected HH:MM, got {show(raw)}")
            return None
        return int(match[1]) * 60 + int(match[2])

    def days(self, raw: Any, path: str) -> frozenset[int]:
        if isinstance(raw, str) and raw in DAY_GROUPS:
            return DAY_GROUPS[raw]
        if isinstance(raw, str) and _day(raw) is not None:
            return frozenset({_day(raw)})
        if not isinstance(raw, list) or not raw:
            groups = ", ".join(DAY_GROUPS)
            self.fail(
                path, f"expected a list of days (mon..sun) or one of {groups}, got {show(raw)}"
            )
            return frozenset()
        days = set()
        for i, item in enumerate(raw):
            day = _day(item)
            if day is not None:
                days.add(day)
            else:
                self.fail(f"{path}[{i}]", f"expected a day mon..sun, got {show(item)}")
        return frozenset(days)

    def windows(self, raw: Any, path: str, with_categories: bool) -> tuple[Window, ...]:
        if not isinstance(raw, list):
            self.fail(path, f"expected a list of windows, got {show(raw)}")
            return ()
        known = {"days", "start", "end"} | (
            {"categories", "services"} if with_categories else set()
        )
        windows = []
        for i, item in enumerate(raw):
            where = f"{path}[{i}]"
            if not isinstance(item, dict) or not item:
                self.fail(where, f"expected a mapping with days, start and end, got {show(item)}")
                continue
            item = self.mapping(item, where, known)
            days = self.days(item.get("days", "every_day"), f"{where}.days")
            start = self.time_of_day(item.get("start"), f"{where}.start")
            end = self.time_of_day(item.get("end"), f"{where}.end", midnight_end=True)
            categories = 0
            services: frozenset[str] = frozenset()
            if with_categories:
                if "categories" not in item and "services" not in item:
                    self.fail(
                        f"{where}.categories", "required: the categories (or services) let through"
                    )
                categories = mask_of(
                    self.categories(item.get("categories", []), f"{where}.categories")
                )
                if categories & mask_of(ALWAYS_BLOCKED):
                    self.fail(f"{where}.categories", "illegal content cannot be let through")
                services = self.window_services(item.get("services", []), f"{where}.services")
            if (
                start is not None
                and end is not None
                and start == end
                and item.get("end") != "24:00"
            ):
                self.fail(f"{where}.end", "same as start: for the whole day write 00:00 to 24:00")
            elif start is not None and end is not None:
                windows.append(Window(days, start, end, categories, services))
        return tuple(windows)

    def window_services(self, raw: Any, path: str) -> frozenset[str]:
        if not isinstance(raw, list):
            self.fail(path, f"expected a list of apps, got {show(raw)}")
            return frozenset()
        found = (self.service_id(item, f"{path}[{i}]") for i, item in enumerate(raw))
        return frozenset(service_id for service_id in found if service_id is not None)

    def duration(self, raw: Any, path: str) -> int | None:
        """Minutes from 90, "90m", "2h" or "1h30m"."""
        minutes = duration_minutes(raw)
        if minutes is not None:
            return minutes
        self.fail(
            path, f"expected minutes or a duration like 2h or 1h30m (at most 24h), got {show(raw)}"
        )
        return None

    def limits(self, raw: Any, path: str) -> Limits:
        raw = self.mapping(raw, path, None)
        for key in raw:
            known = key in ("overall", "reset") or key in BY_ID or key in self.catalogue.services
            if not known:
                self.fail(
                    f"{path}.{key}",
                    "unknown key (expected overall, reset, a category id or an app id)",
                )
        overall = None
        if "overall" in raw:
            overall = self.duration(raw["overall"], f"{path}.overall")
        per_category = {}
        per_service = {}
        for key, value in raw.items():
            if key in BY_ID or key in self.catalogue.services:
                minutes = self.duration(value, f"{path}.{key}")
                if minutes is not None:
                    (per_category if key in BY_ID else per_service)[key] = minutes
        reset = 0
        if "reset" in raw:
            reset = self.time_of_day(raw["reset"], f"{path}.reset") or 0
        return Limits(overall, per_category, reset, per_service)

    def safe_search(self, raw: Any, path: str, preset: Preset) -> SafeSearch:
        if raw is None or raw is True:
            return preset.safe_search
        if raw is False:
            return NO_SAFE_SEARCH
        raw = self.mapping(raw, path, set(SETTING_KEYS))
        engines = {}
        for engine in ENGINE_KEYS:
            value = raw.get(engine, getattr(preset.safe_search, engine))
            if not isinstance(value, bool):
                self.fail(f"{path}.{engine}", f"expected true or false, got {show(value)}")
                value = True
            engines[engine] = value
        youtube = raw.get("youtube", preset.safe_search.youtube.value)
        if youtube is False:
            youtube = YouTube.OFF.value
        try:
            mode = YouTube(youtube)
        except ValueError:
            modes = ", ".join(m.value for m in YouTube)
            self.fail(f"{path}.youtube", f"expected one of {modes}, got {show(youtube)}")
            mode = YouTube.STRICT
        return SafeSearch(**engines, youtube=mode)

    def instant(self, raw: Any, path: str, tz: ZoneInfo) -> float | None:
        """Epoch seconds from "YYYY-MM-DD HH:MM" (home time) or an ISO time with an offset."""
        moment = instant_of(raw, tz)
        if moment is None:
            self.fail(path, f'expected a date and time like "2026-11-22 20:00", got {show(raw)}')
        return moment

    def overrides(self, raw: Any, path: str, tz: ZoneInfo) -> tuple[Override, ...]:
        if not isinstance(raw, list):
            self.fail(path, f"expected a list of overrides, got {show(raw)}")
            return ()
        found = []
        for i, item in enumerate(raw):
            where = f"{path}[{i}]"
            item = self.mapping(
                item, where, {"kind", "until", "minutes", "category", "note", "site"}
            )
            try:
                kind = OverrideKind(item.get("kind"))
            except ValueError:
                kinds = ", ".join(k.value for k in OverrideKind)
                self.fail(f"{where}.kind", f"expected one of {kinds}, got {show(item.get('kind'))}")
                continue
            until = None
            if item.get("until") is not None:
                until = self.instant(item["until"], f"{where}.until", tz)
            elif kind is not OverrideKind.PAUSE:
                self.fail(f"{where}.until", f"required for {kind.value}")
                continue
            minutes = 0
            if kind is OverrideKind.EXTRA_TIME:
                minutes = self.duration(item.get("minutes"), f"{where}.minutes") or 0
            elif "minutes" in item:
                self.fail(f"{where}.minutes", f"only extra_time takes minutes, not {kind.value}")
            category = item.get("category")
            if category is not None and (
                kind is not OverrideKind.EXTRA_TIME
                or not isinstance(category, str)
                or category not in BY_ID
            ):
                self.fail(
                    f"{where}.category",
                    f"expected a category id for extra_time, got {show(category)}",
                )
                category = None
            site = None
            if kind is OverrideKind.ALLOW_SITE:
                domain = item.get("site")
                domain = normalise_domain(domain) if isinstance(domain, str) else None
                if domain is None:
                    self.fail(
                        f"{where}.site", f"expected a domain name, got {show(item.get('site'))}"
                    )
                    continue
                site = domain_to_wire(domain)
            elif "site" in item:
                self.fail(f"{where}.site", f"only allow_site takes a site, not {kind.value}")
            note = item.get("note")
            if note is not None and (problem := text_problem(note, MAX_NOTE)) is not None:
                self.fail(f"{where}.note", f"a note is one line of text: {problem}")
            found.append(Override(kind, until, minutes, category, site))
        return tuple(found)

    def devices(self, raw: Any, children: dict[Any, Any]) -> tuple[Device, ...]:
        if not isinstance(raw, list):
            self.fail("devices", f"expected a list of devices, got {show(raw)}")
            return ()
        devices = []
        seen: dict[str, str] = {}
        for i, item in enumerate(raw):
            where = f"devices[{i}]"
            item = self.mapping(item, where, {"name", "mac", "ip", "owner"})
            mac = ip = None
            if item.get("mac") is not None:
                text = str(item["mac"]).strip().lower()
                if _MAC.fullmatch(text):
                    mac = text.replace("-", ":")
                else:
                    self.fail(
                        f"{where}.mac",
                        f"expected a MAC address like aa:bb:cc:dd:ee:ff, got {show(item['mac'])}",
                    )
            if item.get("ip") is not None:
                try:
                    if "%" in str(item["ip"]):
                        raise ValueError("scoped")
                    ip = str(ipaddress.ip_address(str(item["ip"]).strip()))
                except ValueError:
                    self.fail(f"{where}.ip", f"expected an IP address, got {show(item['ip'])}")
            if item.get("mac") is None and item.get("ip") is None:
                self.fail(where, "needs a mac or an ip address")
            for key, value in (("mac", mac), ("ip", ip)):
                if value is not None:
                    if value in seen:
                        self.fail(f"{where}.{key}", f"{value} is already listed at {seen[value]}")
                    seen[value] = where
            owner = item.get("owner")
            if owner is None or owner is False or owner == NO_OWNER:
                owner = None
            elif not isinstance(owner, str) or owner not in children:
                known = ", ".join(str(c) for c in children) or "none defined"
                self.fail(
                    f"{where}.owner", f"unknown child {show(owner)} (children: {known}; or none)"
                )
                owner = None
            name = item.get("name")
            if name is not None and not isinstance(name, str):
                self.fail(f"{where}.name", f"expected the device's name, got {show(name)}")
                name = None
            elif name is not None and (problem := name_problem(name, MAX_NAME)) is not None:
                self.fail(f"{where}.name", problem)
                name = None
            devices.append(Device(name or mac or ip or where, owner, mac, ip))
        return tuple(devices)


def duration_minutes(raw: Any) -> int | None:
    """Minutes (0 to 24 h) from 90, "90", "90m", "2h" or "1h30m"; None for anything else.
    The one reading of a limit, for filterd and for the dashboard's minutes fields."""
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw <= 24 * 60:
        return raw
    if isinstance(raw, str):
        text = raw.strip().lower()
        if text.isdigit():
            text += "m"
        match = _DURATION.fullmatch(text)
        if match and (match[1] or match[2]):
            minutes = int(match[1] or 0) * 60 + int(match[2] or 0)
            if minutes <= 24 * 60:
                return minutes
    return None


def clock_text(raw: Any) -> str | None:
    """Text "HH:MM" (two digits each) for a time of day the parser accepts ("9:05" -> "09:05"), as a
    time picker needs it; None for anything else."""
    match = _HHMM.fullmatch(raw.strip()) if isinstance(raw, str) else None
    return f"{int(match[1]):02d}:{match[2]}" if match else None


def _day(raw: Any) -> int | None:
    """0-6 from mon..sun or monday..sunday (any case); None otherwise."""
    if not isinstance(raw, str):
        return None
    text = raw.strip().lower()
    for index, short in enumerate(DAYS):
        if text == short or text == FULL_DAYS[index]:
            return index
    return None


def preset_profile(profile_id: str, preset: Preset, counts_usage: bool) -> Profile:
    """A profile that is exactly a preset (for devices nobody has registered)."""
    return Profile(
        id=profile_id,
        name=profile_id,
        age_band="",
        block_mask=preset.block_mask,
        offline=preset.offline,
        safe_search=preset.safe_search,
        counts_usage=counts_usage,
    )
