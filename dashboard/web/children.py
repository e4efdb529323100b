"""Children: the list (with "add a child") and each child's rules editor (see issue 6).

The editor turns the form into the child's raw rules and saves them with filterd's own parser,
so a refused value comes back with the exact key path (`children.sam.offline[0].start`) and the
person's input is shown again unchanged. Keys the form does not cover (allowed_during,
overrides, other offline windows, limits.reset) are kept as they were.
"""

from __future__ import annotations

import copy
import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from dashboard.app import current_dashboard
from dashboard.data import audit, charts
from dashboard.data.accounts import Permission
from dashboard.data.activity import top_apps, usage_today
from dashboard.data.rules_file import ReasonNeeded, StaleEdit, edited
from dashboard.web.security import requires
from filterd.lists.categories import ALWAYS_BLOCKED, CATEGORIES
from filterd.policy.block_answers import BlockStyle
from filterd.rules.model import YouTube
from filterd.rules.parse import DEFAULT_TIMEZONE, RulesError
from filterd.rules.presets import AGE_BANDS, PRESETS, Preset

blueprint = Blueprint("children", __name__, template_folder="../templates")

ENGINES = ("google", "bing", "duckduckgo")
LISTS = ("allow", "deny", "always_allow")
BEDTIMES = (("school", "school_nights"), ("weekend", "weekend_nights"))
CHOOSABLE = [c for c in CATEGORIES if c.id not in ALWAYS_BLOCKED]
BAND_LABELS = {"under_9": "Under 9", "9_12": "9 to 12", "13_15": "13 to 15", "16_17": "16 to 17"}


@blueprint.record_once
def _add_nav_link(state) -> None:
    state.app.config["NAV_LINKS"].append(("children.index", "Rules", Permission.VIEW))


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
                    form[f"{key}_start"] = str(window.get("start") or "")
                    form[f"{key}_end"] = str(window.get("end") or "")
                    break
    limits = body.get("limits") if isinstance(body.get("limits"), dict) else {}
    form["limit_overall"] = str(limits.get("overall", "") or "")
    for category in CHOOSABLE:
        form[f"limit_{category.id}"] = str(limits.get(category.id, "") or "")
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
    form["blocked_answer"] = str(body.get("blocked_answer") or BlockStyle.NULL.value)
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
        for key, days in BEDTIMES:
            start, end = form[f"{key}_start"], form[f"{key}_end"]
            if start or end:
                windows.append({"days": days, "start": start, "end": end})
        others = old.get("offline") if isinstance(old.get("offline"), list) else []
        kept = [
            w
            for w in others
            if not (isinstance(w, dict) and w.get("days") in dict(BEDTIMES).values())
        ]
        body["offline"] = windows + kept

    limits = dict(old["limits"]) if isinstance(old.get("limits"), dict) else {}
    for key in ("overall", *(c.id for c in CHOOSABLE)):
        value = form[f"limit_{key}"]
        if value:
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
    if form["blocked_answer"] != BlockStyle.NULL.value or "blocked_answer" in old:
        body["blocked_answer"] = form["blocked_answer"]
    return body


def _child_devices(raw: dict[str, Any], child: str) -> list[dict[str, Any]]:
    devices = raw.get("devices")
    return (
        [d for d in devices or [] if isinstance(d, dict) and d.get("owner") == child]
        if isinstance(devices, list)
        else []
    )


def _activity(child: str, snapshot) -> charts.Activity:
    """The child's activity charts, in the home's time zone (the last good one if refused)."""
    rules = snapshot.rules
    if rules is not None:
        tz = rules.timezone
        profile = rules.children.get(child)
        reset = profile.limits.reset if profile is not None else 0
    else:
        try:
            tz = ZoneInfo(str(snapshot.raw.get("timezone") or DEFAULT_TIMEZONE))
        except (ZoneInfoNotFoundError, ValueError):
            tz = ZoneInfo(DEFAULT_TIMEZONE)
        reset = 0
    return charts.activity(current_dashboard().filterd_db(), child, tz, reset, _now())


def _now() -> float:
    return time.time()


APPS_TODAY = 10  # apps listed with today's minutes on a child's page


def _apps_today(child: str, snapshot) -> list[tuple[str, int]]:
    """(app name, minutes) used today, most first, as filterd counted them."""
    rules = snapshot.rules
    if rules is None or child not in rules.children:
        return []
    used = usage_today(current_dashboard().filterd_db(), rules.children[child], rules, _now())
    return top_apps(used, current_dashboard().catalogue(), APPS_TODAY)


def _render_child(
    child: str, snapshot, form, problems, status: int = 200, reason_problem: str = ""
):
    return (
        render_template(
            "children/child.html",
            child=child,
            reason_problem=reason_problem,
            form=form,
            problems=problems,
            file_problems=snapshot.problems,
            version=request.form.get("version", snapshot.version)
            if request.method == "POST"
            else snapshot.version,
            devices=_child_devices(snapshot.raw, child),
            activity=_activity(child, snapshot),
            apps_today=_apps_today(child, snapshot),
            app_count=len(current_dashboard().catalogue().services),
            chart=charts,
            categories=CATEGORIES,
            always_blocked=ALWAYS_BLOCKED,
            choosable=CHOOSABLE,
            bands=AGE_BANDS,
            band_labels=BAND_LABELS,
            styles=[s.value for s in BlockStyle],
            youtube_modes=[m.value for m in YouTube],
        ),
        status,
    )


def _render_list(snapshot, problems=(), form=None, status: int = 200):
    children = snapshot.raw.get("children")
    children = children if isinstance(children, dict) else {}
    rows = [
        (str(cid), str(body.get("name") or cid) if isinstance(body, dict) else str(cid),
         str(body.get("age_band") or "") if isinstance(body, dict) else "")
        for cid, body in children.items()
    ]  # fmt: skip
    return (
        render_template(
            "children/index.html",
            children=rows,
            problems=list(problems),
            file_problems=snapshot.problems,
            version=snapshot.version,
            form=form or {"id": "", "name": "", "age_band": "9_12"},
            bands=AGE_BANDS,
            band_labels=BAND_LABELS,
        ),
        status,
    )


@blueprint.route("/children/")
@requires(Permission.VIEW)
def index():
    return _render_list(current_dashboard().rules.read())


@blueprint.route("/children/", methods=["POST"])
@requires(Permission.EDIT_RULES)
def add():
    form = {key: request.form.get(key, "").strip() for key in ("id", "name", "age_band")}
    rules_file = current_dashboard().rules
    snapshot = rules_file.read()
    raw = edited(snapshot)
    if not isinstance(raw.get("children"), dict):
        raw["children"] = {}
    if not form["id"]:
        return _render_list(snapshot, ["id: choose a short id, like sam"], form, 400)
    if form["id"] in raw["children"]:
        return _render_list(snapshot, [f"children.{form['id']}: already in the rules"], form, 400)
    raw["children"][form["id"]] = {"name": form["name"], "age_band": form["age_band"]}
    try:
        rules_file.save(raw, request.form.get("version", ""), g.user)
    except StaleEdit as err:
        return _render_list(snapshot, [str(err)], form, 409)
    except RulesError as err:
        return _render_list(snapshot, err.problems, form, 400)
    audit.record(current_dashboard().db(), g.user.name, "child.add", form["id"], form["age_band"])
    flash(f"Added {form['name'] or form['id']}. Now set their rules.", "ok")
    return redirect(url_for("children.child", child=form["id"]))


@blueprint.route("/children/<child>")
@requires(Permission.VIEW)
def child(child: str):
    snapshot = current_dashboard().rules.read()
    children = snapshot.raw.get("children")
    if not isinstance(children, dict) or child not in children:
        abort(404, "That child is not in the rules.")
    return _render_child(child, snapshot, form_from_rules(children[child]), [])


@blueprint.route("/children/<child>", methods=["POST"])
@requires(Permission.EDIT_RULES)
def save(child: str):
    rules_file = current_dashboard().rules
    snapshot = rules_file.read()
    children = snapshot.raw.get("children")
    if not isinstance(children, dict) or child not in children:
        abort(404, "That child is not in the rules.")
    form = form_from_request(request.form)
    raw = edited(snapshot)
    raw["children"][child] = apply_form(children[child], form)
    reason = request.form.get("reason", "")[:500]
    try:
        saved = rules_file.save(raw, request.form.get("version", ""), g.user, reason)
    except StaleEdit as err:
        return _render_child(child, snapshot, form, [str(err)], 409)
    except RulesError as err:
        return _render_child(child, snapshot, form, err.problems, 400)
    except ReasonNeeded as err:
        needed = (
            f"This change lets {form['name'] or child} reach a high-risk category"
            f" ({'; '.join(err.loosened)}). Say why in the box below, then save again."
        )
        return _render_child(child, snapshot, form, [needed], 400, reason_problem=needed)
    audit.record(
        current_dashboard().db(),
        g.user.name,
        "rules.save",
        child,
        "; ".join(saved.described) or "no change",
    )
    flash(f"Saved {form['name'] or child}'s rules. filterd applies them within 2 seconds.", "ok")
    return redirect(url_for("children.child", child=child))
