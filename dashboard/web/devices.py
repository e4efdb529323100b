"""Devices: everything filterd has seen on the network, who owns it, and assigning it (issue 6).

Host names and vendors come from the devices themselves: they are shown only through Jinja's
autoescaping and written to the rules file only as YAML strings.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from dashboard.app import current_dashboard
from dashboard.data import audit
from dashboard.data.accounts import Permission
from dashboard.data.devices import HOUSEHOLD_OWNER, ago, assign, seen_devices
from dashboard.data.rules_file import StaleEdit, edited
from dashboard.web.security import requires
from filterd.rules.parse import RulesError

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


def _children(raw) -> list[tuple[str, str]]:
    children = raw.get("children")
    if not isinstance(children, dict):
        return []
    return [
        (str(cid), str(body.get("name") or cid) if isinstance(body, dict) else str(cid))
        for cid in children
        for body in (children[cid],)
    ]


@blueprint.route("/devices/")
@requires(Permission.VIEW)
def index():
    snapshot = current_dashboard().rules.read()
    devices = seen_devices(current_dashboard().filterd_db(), snapshot.raw)
    return render_template(
        "devices/index.html",
        devices=devices,
        children=_children(snapshot.raw),
        names=dict(_children(snapshot.raw)),
        household=HOUSEHOLD_OWNER,
        version=snapshot.version,
        file_problems=snapshot.problems,
        checklist=CHECKLIST,
        ago=ago,
        any_new=any(d.new for d in devices),
        filterd_ran=current_dashboard().filterd_db() is not None,
    )


@blueprint.route("/devices/assign", methods=["POST"])
@requires(Permission.EDIT_RULES)
def assign_device():
    mac = request.form.get("mac", "").strip().lower()
    owner = request.form.get("owner", "")
    rules_file = current_dashboard().rules
    snapshot = rules_file.read()
    seen = {d.mac: d for d in seen_devices(current_dashboard().filterd_db(), snapshot.raw)}
    device = seen.get(mac)
    if device is None:
        flash("That device is not one filterd has seen.", "error")
        return redirect(url_for("devices.index"))
    if owner != HOUSEHOLD_OWNER and owner not in dict(_children(snapshot.raw)):
        flash("Choose a child, or household for an adult's or shared device.", "error")
        return redirect(url_for("devices.index"))
    raw = edited(snapshot)
    assign(raw, mac, owner, device.hostname or device.vendor)
    try:
        rules_file.save(raw, request.form.get("version", ""), g.user)
    except StaleEdit as err:
        flash(str(err), "error")
        return redirect(url_for("devices.index"))
    except RulesError as err:
        flash("Not saved: " + "; ".join(err.problems), "error")
        return redirect(url_for("devices.index"))
    audit.record(current_dashboard().db(), g.user.name, "device.assign", mac, owner)
    whose = "the household" if owner == HOUSEHOLD_OWNER else dict(_children(snapshot.raw))[owner]
    flash(f"{device.hostname or mac} now follows the rules of {whose}.", "ok")
    return redirect(url_for("devices.index"))
