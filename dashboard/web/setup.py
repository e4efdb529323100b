"""Setting up after the first administrator, and what the home page asks people to look at.

/setup/home (administrators only) chooses the home's time zone and adds children from the age
presets, saved through the rules file with its version check like every other rules change;
then it points on to Devices to assign each child's devices. The home page prompts
administrators to finish this while the rules have no children, and shows people who review
blocked requests how many high-risk ones from the last week nobody has reviewed yet.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

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

from dashboard.actions import ActionError, Failure
from dashboard.actions.setup import NewChild, set_up_home
from dashboard.app import current_dashboard
from dashboard.data import unknown_devices
from dashboard.data.accounts import Permission, Role
from dashboard.web.security import requires
from filterd.rules.parse import DEFAULT_TIMEZONE
from filterd.rules.presets import AGE_BAND_LABELS, AGE_BANDS

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
    by_row = {}  # "child 2: ..." said beside child 2's name as well
    for problem in problems:
        row, colon, said = problem.partition(": ")
        number = row.removeprefix("child ")
        if colon and number.isdigit():
            by_row[int(number)] = said[:1].upper() + said[1:] + "."
    return (
        render_template(
            "auth/setup_home.html",
            timezone=timezone,
            timezones=zones,
            rows=rows,
            children=_existing(snapshot.raw),
            problems=list(problems),
            by_row=by_row,
            file_problems=snapshot.problems,
            version=request.form.get("version", snapshot.version)
            if request.method == "POST"
            else snapshot.version,
            bands=AGE_BANDS,
            band_labels=AGE_BAND_LABELS,
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
    dashboard = current_dashboard()
    timezone = request.form.get("timezone", "").strip()
    names = [n.strip() for n in request.form.getlist("name")]
    bands = [b.strip() for b in request.form.getlist("age_band")]
    bands += [""] * (len(names) - len(bands))
    children = [NewChild(name, band) for name, band in zip(names, bands, strict=False)]
    try:
        added = set_up_home(
            dashboard,
            g.user,
            timezone,
            children,
            request.form.get("unknown_devices", "").strip(),
            request.form.get("version", ""),
        )
    except ActionError as err:
        rows = [child._asdict() for child in children]
        status = 409 if err.failure is Failure.STALE else 400
        return _render(dashboard.rules.read(), timezone, rows, err.problems or [str(err)], status)
    who = ", ".join(child.name for _, child in added)
    flash(f"Saved. Added {who}." if who else "Saved the time zone.", "ok")
    return redirect(url_for("setup.home"))
