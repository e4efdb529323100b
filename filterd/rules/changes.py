"""What changed between two sets of rules, setting by setting, in plain words.

"Sam: adult: blocked -> allowed", "Sam: bedtime school nights: 20:30 -> 21:30". Compared on the
parsed rules (presets applied), so a change of age band shows what it really changed. Used for
the dashboard's audit trail and by filterd for edits made to the rules file by hand. A change
that lets a child reach a high-risk category is marked, so the dashboard can ask for a reason.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from filterd.dns.block_answers import BlockStyle
from filterd.dns.wire import name_to_text
from filterd.lists.categories import BY_ID, CATEGORIES, HIGH_RISK, ids_of, label_of, mask_of
from filterd.rules.model import Profile, Rules, Window
from filterd.rules.parse import DAY_GROUPS
from filterd.rules.presets import age_words
from filterd.rules.safe_search_names import SETTING_KEYS

HIGH_RISK_MASK = mask_of(HIGH_RISK)


class Risk(NamedTuple):
    """What the lists and the app catalogue in force say about names and apps, so a change
    that opens a high-risk site or app by name (an allow list entry, an app allowed) asks for
    a reason like unblocking the category does. Without one, only categories are judged."""

    name_mask: Callable[[bytes], int]  # a wire name's category mask (lists and patterns)
    app_category: Callable[[str], str | None]  # an app's category id (None: none or unknown)

    def risky_names(self, names: frozenset[bytes]) -> list[str]:
        """The names (as text) whose lists put them in a high-risk category."""
        return sorted(name_to_text(n) for n in names if self.name_mask(n) & HIGH_RISK_MASK)

    def risky_app(self, app: str) -> bool:
        return self.app_category(app) in HIGH_RISK


DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
GROUP_NAMES = {days: name.replace("_", " ") for name, days in DAY_GROUPS.items()}


class Change(NamedTuple):
    child: str  # the child's name as carers know it ('' for the home)
    setting: str
    before: str
    after: str
    loosens_high_risk: bool = False
    category: str = ""  # the category's id when the setting is a category ('' otherwise)

    def __str__(self) -> str:
        who = f"{self.child}: " if self.child else ""
        return f"{who}{self.setting}: {self.before} -> {self.after}"


def _style(style: BlockStyle | None) -> str:
    return "as the home's" if style is None else style.value


def describe(old: Rules | None, new: Rules, risk: Risk | None = None) -> list[Change]:
    """Every setting that differs, home-wide first, then per child in the new file's order.
    With `risk`, names and apps newly let through that are high risk mark their change too."""
    changes: list[Change] = []
    if old is None:
        return [Change("", "rules", "none", f"{len(new.children)} children")]
    if old.timezone != new.timezone:
        changes.append(Change("", "time zone", str(old.timezone), str(new.timezone)))
    changes += _devices(old, new)
    for child_id in [*new.children, *(c for c in old.children if c not in new.children)]:
        before, after = old.children.get(child_id), new.children.get(child_id)
        if before is None:
            assert after is not None
            opens = risk is not None and _opens_by_name(after, risk)
            changes.append(Change(after.name, "child", "none", f"added ({_band(after)})", opens))
        elif after is None:
            changes.append(Change(before.name, "child", "present", "removed"))
        else:
            changes += _profile(before, after, new.timezone, risk)
    return changes


def _opens_by_name(profile: Profile, risk: Risk) -> bool:
    """A new child whose allow lists or apps open a high-risk site or app by name."""
    allowed_apps = [app for app, choice in profile.services.items() if choice == "allowed"]
    allowed_apps += [app for window in profile.allowed_during for app in window.services]
    return bool(risk.risky_names(profile.allow | profile.always_allow)) or any(
        risk.risky_app(app) for app in allowed_apps
    )


def _band(profile: Profile) -> str:
    return age_words(profile.age_band)


def _devices(old: Rules, new: Rules) -> list[Change]:
    def owners(rules: Rules) -> dict[str, str]:
        return {d.name: d.owner or "nobody (household)" for d in rules.devices}

    before, after = owners(old), owners(new)
    changes = []
    for name in [*after, *(n for n in before if n not in after)]:
        if before.get(name) != after.get(name):
            was = before.get(name, "not listed")
            now = after.get(name, "not listed")
            changes.append(Change("", f"device {name}", was, now))
    return changes


def _profile(old: Profile, new: Profile, tz: ZoneInfo, risk: Risk | None = None) -> list[Change]:
    who = new.name
    changes = []
    if old.name != new.name:
        changes.append(Change(who, "name", old.name, new.name))
    if old.age_band != new.age_band:
        changes.append(Change(who, "age band", _band(old), _band(new)))
    for category in CATEGORIES:
        bit = 1 << category.bit
        was, now = bool(old.block_mask & bit), bool(new.block_mask & bit)
        if was != now:
            loosens = was and not now and category.id in HIGH_RISK
            changes.append(
                Change(who, category.label, _blocked(was), _blocked(now), loosens, category.id)
            )
    changes += _windows(who, "bedtime", old.offline, new.offline, loosening_if_added=False)
    changes += _windows(who, "allowed during", old.allowed_during, new.allowed_during, True, risk)
    changes += _limits(who, old, new)
    for label, before, after in (
        ("allow list", old.allow, new.allow),
        ("deny list", old.deny, new.deny),
        ("always allow list", old.always_allow, new.always_allow),
    ):
        if before != after:
            opens = label != "deny list" and risk is not None and risk.risky_names(after - before)
            changes.append(Change(who, label, _names(before), _names(after), bool(opens)))
    if old.walled_garden != new.walled_garden:
        changes.append(
            Change(who, "only the allow list", _on(old.walled_garden), _on(new.walled_garden))
        )
    for engine in SETTING_KEYS:
        was, now = getattr(old.safe_search, engine), getattr(new.safe_search, engine)
        if was != now:
            changes.append(Change(who, f"safe search {engine}", _shown(was), _shown(now)))
    if old.blocked_answer != new.blocked_answer:
        changes.append(
            Change(who, "blocked answer", _style(old.blocked_answer), _style(new.blocked_answer))
        )
    if old.overrides != new.overrides:
        changes.append(Change(who, "overrides", _overrides(old, tz), _overrides(new, tz)))
    if old.services != new.services:
        for app in sorted(set(old.services) | set(new.services)):
            was, now = old.services.get(app, "default"), new.services.get(app, "default")
            if was != now:
                opens = now == "allowed" and risk is not None and risk.risky_app(app)
                changes.append(Change(who, f"app {app}", was, now, opens))
    return changes


def _blocked(blocked: bool) -> str:
    return "blocked" if blocked else "allowed"


def _on(value: bool) -> str:
    return "on" if value else "off"


def _shown(value: object) -> str:
    return _on(value) if isinstance(value, bool) else str(value)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def days_label(days: frozenset[int]) -> str:
    if days in GROUP_NAMES:
        return GROUP_NAMES[days]
    return ", ".join(DAY_NAMES[d] for d in sorted(days))


def _windows(
    who: str,
    label: str,
    old: tuple[Window, ...],
    new: tuple[Window, ...],
    loosening_if_added: bool,
    risk: Risk | None = None,
) -> list[Change]:
    """Windows matched by their days: a start or end moved reads as that time moving."""

    def by_days(windows: tuple[Window, ...]) -> dict[frozenset[int], Window]:
        return {w.days: w for w in windows}

    before, after = by_days(old), by_days(new)
    changes = []
    for days in [*after, *(d for d in before if d not in after)]:
        was, now = before.get(days), after.get(days)
        if was == now:
            continue
        setting = f"{label} {days_label(days)}"
        if (
            was is not None
            and now is not None
            and was.end == now.end
            and was.categories == now.categories
        ):
            changes.append(Change(who, setting, _clock(was.start), _clock(now.start)))
            continue
        opened = (now.categories if now else 0) & ~(was.categories if was else 0)
        loosens = loosening_if_added and any(c in HIGH_RISK for c in ids_of(opened))
        if loosening_if_added and risk is not None:  # a high-risk app allowed at set hours
            apps = (now.services if now else frozenset()) - (was.services if was else frozenset())
            loosens = loosens or any(risk.risky_app(app) for app in apps)
        changes.append(Change(who, setting, _window(was), _window(now), loosens))
    return changes


def _window(window: Window | None) -> str:
    if window is None:
        return "none"
    span = f"{_clock(window.start)}-{_clock(window.end)}"
    listed = [*ids_of(window.categories), *(f"app {app}" for app in sorted(window.services))]
    return f"{span} ({', '.join(listed)})" if listed else span


def _limits(who: str, old: Profile, new: Profile) -> list[Change]:
    changes = []
    if old.limits.overall != new.limits.overall:
        changes.append(
            Change(who, "daily limit", _minutes(old.limits.overall), _minutes(new.limits.overall))
        )
    for category in sorted(set(old.limits.categories) | set(new.limits.categories)):
        was, now = old.limits.categories.get(category), new.limits.categories.get(category)
        if was != now:
            label = label_of(category) if category in BY_ID else category
            changes.append(Change(who, f"daily limit {label}", _minutes(was), _minutes(now)))
    return changes


def _minutes(value: int | None) -> str:
    if value is None:
        return "none"
    hours, minutes = divmod(value, 60)
    if hours and minutes:
        return f"{hours}h {minutes}m"
    return f"{hours}h" if hours else f"{minutes}m"


def _names(names: frozenset[bytes]) -> str:
    return ", ".join(sorted(name_to_text(n) for n in names)) or "none"


def _overrides(profile: Profile, tz: ZoneInfo) -> str:
    if not profile.overrides:
        return "none"
    parts = []
    for override in profile.overrides:
        until = (
            "until resumed"
            if override.until is None
            else "until " + datetime.fromtimestamp(override.until, tz).strftime("%Y-%m-%d %H:%M")
        )
        extra = f" {override.minutes}m" if override.minutes else ""
        if override.site is not None:
            extra = f" {name_to_text(override.site)}"
        parts.append(f"{override.kind.value.replace('_', ' ')}{extra} {until}")
    return "; ".join(parts)


class Setting(NamedTuple):
    """One setting in force, in the same words a change to it is described with."""

    setting: str
    value: str

    def __str__(self) -> str:
        return f"{self.setting}: {self.value}"


def limited_categories(profile: Profile) -> dict[str, int]:
    """The child's daily limits by category, less those on a category blocked outright (such
    a limit says nothing in force: there is no time to count down)."""
    return {
        category: minutes
        for category, minutes in profile.limits.categories.items()
        if not (category in BY_ID and profile.block_mask & (1 << BY_ID[category].bit))
    }


def in_force(profile: Profile) -> list[Setting]:
    """What a child's rules say, setting by setting, in the words `describe` uses for a change
    (the child's online-safety agreement states these). Overrides (a pause, extra time) are
    left out: they are the day's exceptions, not what was agreed."""
    found = []
    for window in profile.offline:
        found.append(Setting(f"bedtime {days_label(window.days)}", _window(window)))
    for window in profile.allowed_during:
        found.append(Setting(f"allowed during {days_label(window.days)}", _window(window)))
    if profile.limits.overall is not None:
        found.append(Setting("daily limit", _minutes(profile.limits.overall)))
    for category, minutes in sorted(limited_categories(profile).items()):
        label = label_of(category) if category in BY_ID else category
        found.append(Setting(f"daily limit {label}", _minutes(minutes)))
    for app, minutes in sorted(profile.limits.services.items()):
        found.append(Setting(f"daily limit app {app}", _minutes(minutes)))
    blocked = [c.label for c in CATEGORIES if profile.block_mask & (1 << c.bit)]
    found.append(Setting("blocked", ", ".join(blocked) or "none"))
    for app, choice in sorted(profile.services.items()):
        found.append(Setting(f"app {app}", choice))
    found.append(Setting("only the allow list", _on(profile.walled_garden)))
    for label, names in (
        ("allow list", profile.allow),
        ("deny list", profile.deny),
        ("always allow list", profile.always_allow),
    ):
        if names:
            found.append(Setting(label, _names(names)))
    for engine in SETTING_KEYS:
        found.append(Setting(f"safe search {engine}", _shown(getattr(profile.safe_search, engine))))
    return found
