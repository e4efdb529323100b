"""Setting up after the first administrator, and what the home page asks people to look at.

/setup/home (administrators only) chooses the home's time zone and adds children from the age
presets, saved through the rules file with its version check like every other rules change;
then it points on to Devices to assign each child's devices. The home page prompts
administrators to finish this while the rules have no children, and shows people who review
blocked requests how many high-risk ones from the last week nobody has reviewed yet.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
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
from dashboard.data import audit, blocked_log, unknown_devices
from dashboard.data.accounts import Permission, Role
from dashboard.data.rules_file import StaleEdit, edited
from dashboard.web.children import BAND_LABELS
from dashboard.web.security import requires
from filterd.rules.parse import DEFAULT_TIMEZONE, RulesError
from filterd.rules.presets import AGE_BANDS

blueprint = Blueprint("setup", __name__, template_folder="../templates")

TIMEZONES = (
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Brussels",
    "Europe/Amsterdam",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Warsaw",
    "Europe/Stockholm",
    "Europe/Helsinki",
    "Europe/Athens",
    "Africa/Johannesburg",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Hong_Kong",
    "Asia/Tokyo",
    "Australia/Perth",
    "Australia/Adelaide",
    "Australia/Brisbane",
    "Australia/Sydney",
    "Australia/Melbourne",
    "Pacific/Auckland",
    "America/St_Johns",
    "America/Halifax",
    "America/Toronto",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Vancouver",
    "UTC",
)
ROWS = 4  # blank "add a child" rows on the page; more can be added by saving and coming back
MAX_NAME = 64
ALERT_DAYS = 7


def child_id(name: str, taken: set[str]) -> str:
    """A rules-file id from a child's name: lower-case ASCII, `-` between words, unique."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:28].strip("-") or "child"
    found, number = base, 2
    while found in taken:
        found, number = f"{base}-{number}", number + 1
    return found


def valid_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" is a directory
        return False
    return bool(name) and len(name) <= 64


def _existing(raw: dict[str, Any]) -> list[tuple[str, str, str]]:
    children = raw.get("children")
    if not isinstance(children, dict):
        return []
    return [
        (str(cid), str(body.get("name") or cid), str(body.get("age_band") or ""))
        if isinstance(body, dict)
        else (str(cid), str(cid), "")
        for cid, body in children.items()
    ]


def _render(snapshot, timezone: str, rows: list[dict[str, str]], problems, status: int = 200):
    unknown = request.form.get("unknown_devices", "") if request.method == "POST" else ""
    rows = rows + [{"name": "", "age_band": ""}] * max(0, ROWS - len(rows))
    zones = TIMEZONES if timezone in TIMEZONES else (timezone, *TIMEZONES)
    return (
        render_template(
            "auth/setup_home.html",
            timezone=timezone,
            timezones=zones,
            rows=rows,
            children=_existing(snapshot.raw),
            problems=list(problems),
            file_problems=snapshot.problems,
            version=request.form.get("version", snapshot.version)
            if request.method == "POST"
            else snapshot.version,
            bands=AGE_BANDS,
            band_labels=BAND_LABELS,
            unknown_choices=unknown_devices.CHOICES,
            unknown_choice=unknown
            if unknown in unknown_devices.CHOICES
            else unknown_devices.current(snapshot.raw),
        ),
        status,
    )


def _administrators_only(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.user.role is not Role.ADMINISTRATOR:
            abort(403, "Only an administrator sets up the home.")
        return view(*args, **kwargs)

    return requires(Permission.VIEW)(wrapped)  # signed out: to the login page first


@blueprint.route("/setup/home")
@_administrators_only
def home():
    snapshot = current_dashboard().rules.read()
    timezone = snapshot.raw.get("timezone")
    timezone = timezone if isinstance(timezone, str) and timezone else DEFAULT_TIMEZONE
    return _render(snapshot, timezone, [], [])


@blueprint.route("/setup/home", methods=["POST"])
@_administrators_only
def save():
    rules_file = current_dashboard().rules
    snapshot = rules_file.read()
    timezone = request.form.get("timezone", "").strip()
    names = [n.strip() for n in request.form.getlist("name")]
    bands = [b.strip() for b in request.form.getlist("age_band")]
    bands += [""] * (len(names) - len(bands))
    rows = [{"name": name, "age_band": band} for name, band in zip(names, bands, strict=False)]
    problems = []
    if not valid_timezone(timezone):
        problems.append("timezone: choose the home's time zone from the list")
    for number, row in enumerate(rows, 1):
        if not row["name"]:
            continue
        if len(row["name"]) > MAX_NAME or not row["name"].isprintable():
            problems.append(f"child {number}: a name is 1 to {MAX_NAME} printable characters")
        if row["age_band"] not in AGE_BANDS:
            problems.append(f"child {number}: choose an age band for {row['name']}")
    unknown = request.form.get("unknown_devices", "").strip()
    if unknown and unknown not in unknown_devices.CHOICES:
        problems.append("devices nobody has assigned: choose one of the two")
    if problems:
        return _render(snapshot, timezone, rows, problems, 400)

    raw = edited(snapshot)
    old_timezone = raw.get("timezone")
    raw["timezone"] = timezone
    old_unknown = unknown_devices.current(raw)
    if unknown:
        raw["unknown_devices"] = unknown
    if not isinstance(raw.get("children"), dict):
        raw["children"] = {}
    added = []
    for row in rows:
        if row["name"]:
            cid = child_id(row["name"], set(raw["children"]))
            raw["children"][cid] = {"name": row["name"], "age_band": row["age_band"]}
            added.append((cid, row))
    try:
        rules_file.save(raw, request.form.get("version", ""), g.user)
    except StaleEdit as err:
        return _render(snapshot, timezone, rows, [str(err)], 409)
    except RulesError as err:
        return _render(snapshot, timezone, rows, err.problems, 400)
    db = current_dashboard().db()
    if timezone != old_timezone:
        audit.record(db, g.user.name, "setup.timezone", timezone, str(old_timezone or ""))
    if unknown and unknown != old_unknown:
        audit.record(db, g.user.name, "devices.unknown", unknown, old_unknown)
    for cid, row in added:
        audit.record(db, g.user.name, "child.add", cid, row["age_band"])
    who = ", ".join(row["name"] for _, row in added)
    flash(f"Saved. Added {who}." if who else "Saved the time zone.", "ok")
    return redirect(url_for("setup.home"))


@blueprint.app_context_processor
def _attention() -> dict[str, Any]:
    """Things the home page asks about, worked out only when a page asks for them."""

    def unreviewed_high_risk() -> int:
        user = g.get("user")
        if user is None or not user.may(Permission.REVIEW):
            return 0
        dashboard = current_dashboard()
        return blocked_log.unreviewed_high_risk(dashboard.filterd_db(), dashboard.db(), ALERT_DAYS)

    return {"unreviewed_high_risk": unreviewed_high_risk, "alert_days": ALERT_DAYS}
