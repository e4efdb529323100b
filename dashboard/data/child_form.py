"""The child-rules form: a child's raw rules shown as the editor's fields, and the fields
written back over the raw rules. No Flask here (tests/unit/test_child_form.py is its table test).

Values go in as typed, so filterd's parser (not this code) decides what is refused; a field
left as the age preset says is not written, so the child keeps following the preset. Keys the
form does not cover (allowed_during, overrides, other offline windows, limits.reset) are kept.
"""

from __future__ import annotations

import copy
from typing import Any, NamedTuple

from filterd.lists.categories import ALWAYS_BLOCKED, CATEGORIES
from filterd.rules.model import YouTube
from filterd.rules.parse import clock_text, duration_minutes
from filterd.rules.presets import PRESETS, Preset
from filterd.rules.safe_search_names import ENGINE_KEYS

ENGINES = ENGINE_KEYS  # the form's safe search tick boxes, one per on-or-off engine
LISTS = ("allow", "deny", "always_allow")
BEDTIMES = (("school", "school_nights"), ("weekend", "weekend_nights"))
HOME_STYLE = ""  # the form's value for "the home's choice": no blocked_answer of the child's own
CHOOSABLE = [c for c in CATEGORIES if c.id not in ALWAYS_BLOCKED]


class Screen(NamedTuple):
    """One short screen of the editor: its title and the form fields it shows and saves."""

    title: str
    fields: tuple[str, ...]


SCREENS = {
    "limits": Screen(
        "Bedtime and limits",
        (
            *(f"{key}_{end}" for key, _ in BEDTIMES for end in ("start", "end")),
            "limit_overall",
            *(f"limit_{c.id}" for c in CHOOSABLE),
        ),
    ),
    "blocked": Screen("What is blocked", ("block", *ENGINES, "youtube")),
    "advanced": Screen("Advanced", ("name", "age_band", *LISTS, "walled_garden", "blocked_answer")),
}


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _preset(band: Any) -> Preset:
    return PRESETS.get(band) if isinstance(band, str) and band in PRESETS else PRESETS["9_12"]


def _preset_bedtimes(preset: Preset) -> dict[str, str]:
    """school_start, school_end, weekend_start, weekend_end of a preset ('' when it has none)."""
    times = {f"{key}_{end}": "" for key, _ in BEDTIMES for end in ("start", "end")}
    for (key, _), window in zip(BEDTIMES, preset.offline, strict=False):
        times[f"{key}_start"], times[f"{key}_end"] = _hhmm(window.start), _hhmm(window.end)
    return times


def _preset_safe_search(preset: Preset) -> dict[str, Any]:
    search = preset.safe_search
    return {**{e: getattr(search, e) for e in ENGINES}, "youtube": search.youtube.value}


def _clock(raw: Any) -> str:
    """A bedtime as a time picker shows it ("9:05" -> "09:05"); anything else as written."""
    return clock_text(raw) or str(raw if raw is not None else "")


def _minutes(raw: Any) -> str:
    """A limit as a number of minutes ("1h30m" -> "90"); anything else as written."""
    minutes = duration_minutes(raw)
    return str(minutes) if minutes is not None else str(raw if raw is not None else "")


def form_from_rules(body: Any) -> dict[str, Any]:
    """The editor's fields from a child's raw rules, with the preset filling what is not set."""
    body = body if isinstance(body, dict) else {}
    preset = _preset(body.get("age_band"))
    blocked = body.get("block_categories")
    blocked = blocked if isinstance(blocked, list) else list(preset.categories)
    form: dict[str, Any] = {
        "name": str(body.get("name") or ""),
        "age_band": str(body.get("age_band") or ""),
        "block": {str(c) for c in blocked},
        **_preset_bedtimes(preset),
    }
    offline = body.get("offline")
    if isinstance(offline, list):
        for key, days in BEDTIMES:
            form[f"{key}_start"] = form[f"{key}_end"] = ""
            for window in offline:
                if isinstance(window, dict) and window.get("days") == days:
                    form[f"{key}_start"] = _clock(window.get("start"))
                    form[f"{key}_end"] = _clock(window.get("end"))
                    break
    limits = body.get("limits") if isinstance(body.get("limits"), dict) else {}
    form["limit_overall"] = _minutes(limits.get("overall"))
    for category in CHOOSABLE:
        form[f"limit_{category.id}"] = _minutes(limits.get(category.id))
    for key in LISTS:
        items = body.get(key)
        form[key] = "\n".join(str(i) for i in items) if isinstance(items, list) else ""
    search = _preset_safe_search(preset)
    raw_search = body.get("safe_search")
    if raw_search is False:
        search = {**dict.fromkeys(ENGINES, False), "youtube": YouTube.OFF.value}
    elif isinstance(raw_search, dict):
        search.update({k: v for k, v in raw_search.items() if k in search})
    form.update({e: search[e] is True for e in ENGINES})
    form["youtube"] = "off" if search["youtube"] is False else str(search["youtube"])
    form["walled_garden"] = body.get("walled_garden") is True
    # '': none of the child's own, so the home's style applies (filterd's policy stage).
    form["blocked_answer"] = str(body.get("blocked_answer") or HOME_STYLE)
    return form


def form_from_request(posted) -> dict[str, Any]:
    """The editor's fields exactly as the person sent them (to show again on a refusal)."""
    form: dict[str, Any] = {
        "name": posted.get("name", ""),
        "age_band": posted.get("age_band", ""),
        "block": set(posted.getlist("block")),
    }
    for key, _ in BEDTIMES:
        for end in ("start", "end"):
            form[f"{key}_{end}"] = posted.get(f"{key}_{end}", "").strip()
    form["limit_overall"] = posted.get("limit_overall", "").strip()
    for category in CHOOSABLE:
        form[f"limit_{category.id}"] = posted.get(f"limit_{category.id}", "").strip()
    for key in LISTS:
        form[key] = posted.get(key, "")
    form.update({e: e in posted for e in ENGINES})
    form["youtube"] = posted.get("youtube", "")
    form["walled_garden"] = "walled_garden" in posted
    form["blocked_answer"] = posted.get("blocked_answer", "")
    return form


def form_for_screen(old: Any, posted, screen: str) -> dict[str, Any]:
    """The whole editor's fields: the child's rules as they are, with one screen's fields as
    the person sent them (the other screens' fields are not on that page)."""
    form = form_from_rules(old)
    sent = form_from_request(posted)
    form.update({key: sent[key] for key in SCREENS[screen].fields})
    return form


def _number_or_text(value: str) -> int | str:
    return int(value) if value.isdigit() else value


def apply_form(old: Any, form: dict[str, Any]) -> dict[str, Any]:
    """A child's new raw rules: the old ones with the form's fields written over them.

    Values go in as typed, so filterd's parser (not this code) decides what is refused. A
    field left as the preset says is not written, so the child keeps following the preset.
    """
    old = old if isinstance(old, dict) else {}
    body = copy.deepcopy(old)
    body["name"] = form["name"]
    body["age_band"] = form["age_band"]
    preset = _preset(form["age_band"])
    old_preset = _preset(old.get("age_band"))

    chosen = [c.id for c in CHOOSABLE if c.id in form["block"]]
    follows = "block_categories" not in old
    preset_choice = set(preset.categories) - ALWAYS_BLOCKED
    old_choice = set(old_preset.categories) - ALWAYS_BLOCKED
    if follows and set(chosen) in (preset_choice, old_choice):
        body.pop("block_categories", None)
    else:
        body["block_categories"] = chosen

    bedtimes = {k: form[k] for k in _preset_bedtimes(preset)}
    if "offline" not in old and bedtimes in (
        _preset_bedtimes(preset),
        _preset_bedtimes(old_preset),
    ):
        body.pop("offline", None)
    else:
        windows = []
        others = old.get("offline") if isinstance(old.get("offline"), list) else []
        for key, days in BEDTIMES:
            start, end = form[f"{key}_start"], form[f"{key}_end"]
            if start or end:
                was = next((w for w in others if isinstance(w, dict) and w.get("days") == days), {})
                # "9:30" as written stays; an end left empty stays empty, for the parser to
                # refuse by its field (one end of a bedtime alone is no bedtime).
                if start and "start" in was and _clock(was["start"]) == start:
                    start = was["start"]
                if end and "end" in was and _clock(was["end"]) == end:
                    end = was["end"]
                windows.append({"days": days, "start": start, "end": end})
        kept = [
            w
            for w in others
            if not (isinstance(w, dict) and w.get("days") in dict(BEDTIMES).values())
        ]
        body["offline"] = windows + kept

    limits = dict(old["limits"]) if isinstance(old.get("limits"), dict) else {}
    for key in ("overall", *(c.id for c in CHOOSABLE)):
        value = form[f"limit_{key}"]
        if value and key in limits and _minutes(limits[key]) == value:
            pass  # unchanged: "3h" stays as written
        elif value:
            limits[key] = _number_or_text(value)
        else:
            limits.pop(key, None)
    if limits:
        body["limits"] = limits
    else:
        body.pop("limits", None)

    for key in LISTS:
        items = [line.strip() for line in form[key].splitlines() if line.strip()]
        if items or key in old:
            body[key] = items

    search = {**{e: form[e] for e in ENGINES}, "youtube": form["youtube"]}
    if "safe_search" not in old and search in (
        _preset_safe_search(preset),
        _preset_safe_search(old_preset),
    ):
        body.pop("safe_search", None)
    else:
        body["safe_search"] = search

    if form["walled_garden"] or "walled_garden" in old:
        body["walled_garden"] = form["walled_garden"]
    if form["blocked_answer"] == HOME_STYLE:
        body.pop("blocked_answer", None)  # follows the home's style, whatever it becomes
    else:
        body["blocked_answer"] = form["blocked_answer"]
    return body
