"""Devices: everything filterd has seen on the network, who owns it, and assigning it (issue 6).

Host names and vendors come from the devices themselves: they are shown only through Jinja's
autoescaping and written to the rules file only as YAML strings.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from dashboard.actions import ActionError
from dashboard.actions.devices import assign_device as assign
from dashboard.actions.devices import child_names
from dashboard.actions.unknown_devices import choose
from dashboard.app import current_dashboard
from dashboard.data import device_records
from dashboard.data.accounts import Permission
from dashboard.data.devices import HOUSEHOLD_OWNER, ago, seen_devices
from dashboard.data.unknown_devices import CHOICES, current, described
from dashboard.web.security import requires

blueprint = Blueprint("devices", __name__, template_folder="../templates")


@blueprint.record_once
def _add_nav_link(state) -> None:
    state.app.config["NAV_LINKS"].append(("devices.index", "Devices", Permission.VIEW))


@blueprint.route("/devices/")
@requires(Permission.VIEW)
def index():
    snapshot = current_dashboard().rules.read()
    devices = seen_devices(current_dashboard().filterd_db(), snapshot.raw)
    # Nobody has decided about an unassigned device yet: those stay at the top until someone
    # does (the sort is stable, so each group keeps most recently seen first).
    devices.sort(key=lambda device: device.owner is not None)
    return render_template(
        "devices/index.html",
        devices=devices,
        children=list(child_names(snapshot.raw).items()),
        names=child_names(snapshot.raw),
        household=HOUSEHOLD_OWNER,
        version=snapshot.version,
        file_problems=snapshot.problems,
        checklist=device_records.CHECKLIST.values(),
        ago=ago,
        any_new=any(d.new for d in devices),
        filterd_ran=current_dashboard().filterd_db().exists,
        unassigned=sum(1 for d in devices if d.owner is None),
        unknown_choice=current(snapshot.raw),
        unknown_described=described(snapshot.raw),
        unknown_choices=CHOICES,
        records=device_records.read_many(current_dashboard().db(), [d.mac for d in devices]),
    )


@blueprint.route("/devices/unassigned", methods=["POST"])
@requires(Permission.EDIT_HOME)
def choose_unassigned():
    try:
        changed = choose(
            current_dashboard(),
            g.user,
            request.form.get("unknown_devices", ""),
            request.form.get("version", ""),
        )
    except ActionError as err:
        flash(str(err), "error")
        return redirect(url_for("devices.index"))
    choice = CHOICES[request.form["unknown_devices"]].split(" (")[0]
    flash(
        f"Devices nobody has assigned: {choice.lower()}." if changed else "Nothing changed.", "ok"
    )
    return redirect(url_for("devices.index"))


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
    said = f"{done.device.hostname or done.device.mac} now follows the rules of {done.owner_name}."
    record = device_records.read(current_dashboard().db(), done.device.mac)
    if request.form.get("owner") != HOUSEHOLD_OWNER and not record.filled_in:
        # A device newly a child's: the guidance asks who bought it, who holds its account,
        # whether it was reset and set up. The carer lands on its record to say so.
        flash(said + " Now fill in its record.", "ok")
        return redirect(url_for("device_record.show", mac=done.device.mac))
    flash(said, "ok")
    return redirect(url_for("devices.index"))
