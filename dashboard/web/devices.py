"""Devices: everything filterd has seen on the network, who owns it, and assigning it (issue 6).

Host names and vendors come from the devices themselves: they are shown only through Jinja's
autoescaping and written to the rules file only as YAML strings.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from dashboard.actions import ActionError
from dashboard.actions.devices import assign_device as assign
from dashboard.actions.devices import child_names
from dashboard.app import current_dashboard
from dashboard.data.accounts import Permission
from dashboard.data.devices import HOUSEHOLD_OWNER, ago, seen_devices
from dashboard.web.security import requires

blueprint = Blueprint("devices", __name__, template_folder="../templates")

CHECKLIST = (
    "Location sharing off (in the device's settings and in each app that asks).",
    "Accounts set to friends-only: who can message, see posts and add them.",
    "Parental controls on (Screen Time, Family Link, the console's family settings).",
    "Private (random) Wi-Fi address off for this network, so filterd keeps knowing the device.",
)


@blueprint.record_once
def _add_nav_link(state) -> None:
    state.app.config["NAV_LINKS"].append(("devices.index", "Devices", Permission.VIEW))


@blueprint.route("/devices/")
@requires(Permission.VIEW)
def index():
    snapshot = current_dashboard().rules.read()
    devices = seen_devices(current_dashboard().filterd_db(), snapshot.raw)
    return render_template(
        "devices/index.html",
        devices=devices,
        children=list(child_names(snapshot.raw).items()),
        names=child_names(snapshot.raw),
        household=HOUSEHOLD_OWNER,
        version=snapshot.version,
        file_problems=snapshot.problems,
        checklist=CHECKLIST,
        ago=ago,
        any_new=any(d.new for d in devices),
        filterd_ran=current_dashboard().filterd_db().exists,
    )


@blueprint.route("/devices/assign", methods=["POST"])
@requires(Permission.EDIT_RULES)
def assign_device():
    try:
        done = assign(
            current_dashboard(),
            g.user,
            request.form.get("mac", ""),
            request.form.get("owner", ""),
            request.form.get("version", ""),
        )
    except ActionError as err:
        flash(str(err), "error")
        return redirect(url_for("devices.index"))
    flash(
        f"{done.device.hostname or done.device.mac} now follows the rules of {done.owner_name}.",
        "ok",
    )
    return redirect(url_for("devices.index"))
