"""A child's choice for each app, read from and written into their raw rules.

One choice per app, as the Apps screen offers it: as its category says, allowed, blocked,
allowed only in set hours (an `allowed_during` window naming the app), or a daily limit
(`limits: {youtube: 1h}`). Writing one choice removes the app from the other three places, so
the file never holds two that disagree; the values go in as typed and filterd's parser (on
save) decides what is refused.
"""

from __future__ import annotations

import copy
import re
from typing import Any, NamedTuple

from filterd.catalogue.model import Catalogue, Service
from filterd.lists.categories import label_of
from filterd.rules.parse import FULL_DAYS
from filterd.rules.presets import PRESETS

CATEGORY, ALLOWED, BLOCKED, HOURS, LIMIT = "category", "allowed", "blocked", "hours", "limit"
CHOICES = (CATEGORY, ALLOWED, BLOCKED, HOURS, LIMIT)
DAY_CHOICES = {  # the rules file's day words, as a carer reads them (the form's choices)
    "every_day": "Every day",
    "weekdays": "Weekdays",
    "weekends": "Weekends",
    "mon": "Mondays",
    "tue": "Tuesdays",
    "wed": "Wednesdays",
    "thu": "Thursdays",
    "fri": "Fridays",
    "sat": "Saturdays",
    "sun": "Sundays",
    "school_nights": "School nights (Sunday to Thursday)",
    "weekend_nights": "Friday and Saturday nights",
}
_DURATION = re.compile(r"(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?")
KIND_LABELS = {
    "social": "Social media",
    "messaging": "Messaging",
    "stranger_chat": "Chat with strangers",
    "gaming": "Games",
    "streaming": "Video and music",
    "ai_chat": "AI chat",
    "dating": "Dating",
    "app_store": "App stores",
    "bypass": "Getting round the filter (VPNs, proxies, private DNS)",
}


class AppState(NamedTuple):
    service: Service
    choice: str  # one of CHOICES
    days: str  # HOURS: the window's days ("sat", "weekends", ...)
    start: str  # HOURS: HH:MM
    end: str
    limit: str  # LIMIT: as written (60, "1h")
    category_blocks: bool  # with no choice, whether its category blocks it for this child

    @property
    def summary(self) -> str:
        """The app's state in plain words, for its card."""
        if self.choice == ALLOWED:
            return "Allowed"
        if self.choice == BLOCKED:
            return "Blocked"
        if self.choice == HOURS:
            return f"Allowed {days_text(self.days)} {self.start} to {self.end}"
        if self.choice == LIMIT:
            return f"Daily limit: {minutes_text(self.limit)}"
        if not self.service.category:
            return "Allowed: no category blocks it"
        category = category_words(self.service.category)
        word = "blocked" if self.category_blocks else "allowed"
        return f"{word.capitalize()}: {category} is {word}"


def days_text(days: str) -> str:
    """A window's days in words: "Saturdays", "Saturdays and Sundays" (never "['sat']")."""
    words = [_day_word(day) for day in days.split(",") if day.strip()]
    if len(words) > 1:
        return ", ".join(words[:-1]) + " and " + words[-1]
    return words[0] if words else DAY_CHOICES["every_day"]


def _day_word(day: str) -> str:
    day = day.strip().lower()
    if day in FULL_DAYS:
        day = day[:3]
    return DAY_CHOICES.get(day, day)


def minutes_text(raw: Any) -> str:
    """A daily limit as written ("1", "45", "1h30m") in words: "1 minute", "1 hour 30 minutes"."""
    text = str(raw).strip()
    found = _DURATION.fullmatch(text) if text and not text.isdigit() else None
    hours, minutes = (0, int(text)) if text.isdigit() else (0, 0)
    if found and (found.group(1) or found.group(2)):
        hours, minutes = int(found.group(1) or 0), int(found.group(2) or 0)
    elif not text.isdigit():
        return text
    parts = [
        f"{n} {unit}{'' if n == 1 else 's'}"
        for n, unit in ((hours, "hour"), (minutes, "minute"))
        if n
    ]
    return " ".join(parts) or "0 minutes"


def category_words(category: str) -> str:
    """A category id as a carer reads it in a sentence ("AI chat", "stranger chat")."""
    return label_of(category)


def _blocked_categories(body: dict[str, Any]) -> set[str]:
    chosen = body.get("block_categories")
    if isinstance(chosen, list):
        return {str(c) for c in chosen} | {"illegal"}
    preset = PRESETS.get(body.get("age_band")) if isinstance(body.get("age_band"), str) else None
    return set(preset.categories) if preset else set()


def states(body: Any, catalogue: Catalogue) -> dict[str, AppState]:
    """Every app's state for one child's raw rules."""
    body = body if isinstance(body, dict) else {}
    services = body.get("services") if isinstance(body.get("services"), dict) else {}
    limits = body.get("limits") if isinstance(body.get("limits"), dict) else {}
    windows = body.get("allowed_during") if isinstance(body.get("allowed_during"), list) else []
    blocked = _blocked_categories(body)
    found = {}
    for service_id, service in catalogue.services.items():
        choice, days, start, end, limit = CATEGORY, "every_day", "", "", ""
        if services.get(service_id) in (ALLOWED, BLOCKED):
            choice = services[service_id]
        for window in windows:
            names = window.get("services") if isinstance(window, dict) else None
            if isinstance(names, list) and service_id in names:
                choice = HOURS
                days = _form_days(window.get("days", "every_day"))
                start, end = str(window.get("start", "")), str(window.get("end", ""))
                break
        if service_id in limits and choice == CATEGORY:
            choice, limit = LIMIT, str(limits[service_id])
        category_blocks = service.category is not None and service.category in blocked
        found[service_id] = AppState(service, choice, days, start, end, limit, category_blocks)
    return found


def _form_days(raw: Any) -> str:
    """A window's days as the form holds them: a day word, or days joined by commas."""
    if isinstance(raw, list):
        return ",".join(str(day) for day in raw)
    return str(raw)


def apply_choice(old: Any, service_id: str, choice: str, form: dict[str, str]) -> dict[str, Any]:
    """A child's new raw rules with one app's choice set and its other places cleared."""
    body = copy.deepcopy(old) if isinstance(old, dict) else {}
    services = body.get("services") if isinstance(body.get("services"), dict) else {}
    services.pop(service_id, None)
    limits = body.get("limits") if isinstance(body.get("limits"), dict) else {}
    limits.pop(service_id, None)
    windows = []
    for window in body.get("allowed_during") or []:
        names = window.get("services") if isinstance(window, dict) else None
        if isinstance(names, list) and service_id in names:
            names = [n for n in names if n != service_id]
            if not names and not window.get("categories"):
                continue  # the window was only this app's
            window = (
                {**window, "services": names}
                if names
                else {k: v for k, v in window.items() if k != "services"}
            )
        windows.append(window)
    if choice in (ALLOWED, BLOCKED):
        services[service_id] = choice
    elif choice == HOURS:
        windows.append(
            {
                "days": _rules_days(form.get("days", "every_day")),
                "start": form.get("start", "").strip(),
                "end": form.get("end", "").strip(),
                "services": [service_id],
            }
        )
    elif choice == LIMIT:
        value = form.get("limit", "").strip()
        limits[service_id] = int(value) if value.isdigit() else value
    for key, value in (("services", services), ("limits", limits), ("allowed_during", windows)):
        if value:
            body[key] = value
        else:
            body.pop(key, None)
    return body


def _rules_days(days: str) -> str | list[str]:
    """The form's days back as the rules file writes them (a list for several days)."""
    if "," in days:
        return [day.strip() for day in days.split(",") if day.strip()]
    return days


def kinds_in_order(catalogue: Catalogue) -> list[tuple[str, str, list[Service]]]:
    """(kind, label, services by name) in the Apps screen's order."""
    groups = []
    for kind, label in KIND_LABELS.items():
        members = sorted(
            (s for s in catalogue.services.values() if s.kind == kind), key=lambda s: s.name.lower()
        )
        if members:
            groups.append((kind, label, members))
    return groups
