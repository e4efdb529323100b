"""Devices: everything filterd has seen on the network, who owns it, and assigning it.

Host names and vendors come from the devices themselves: they are shown only through Jinja's
autoescaping and written to the rules file only as YAML strings.
"""

from __future__ import annotations

import time

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from dashboard.actions import ActionError, Failure
from dashboard.actions.devices import (
    VISITOR_OWNER,
    add_device,
    remove_device,
    rename_device,
)
from dashboard.actions.devices import assign_device as assign
from dashboard.actions.unknown_devices import choose
from dashboard.app import current_dashboard
from dashboard.data import device_records
from dashboard.data.accounts import Permission
from dashboard.data.devices import HOUSEHOLD_OWNER, all_devices
from dashboard.data.rules_file import child_names
from dashboard.data.unknown_devices import CHOICES, current, described
from dashboard.data.when_words import ago
from dashboard.web.security import requires

blueprint = Blueprint("devices", __name__, template_folder="../templates")


@blueprint.record_once
def _add_nav_link(state) -> None:
    state.app.config["NAV_LINKS"].append(("devices.index", "Devices", Permission.VIEW))


def _render(errors: dict[tuple[str, str], str] | None = None, add_form=None, status: int = 200):
    """The Devices page; `errors` maps (device key or "add", field) to a message shown next
    to that field, `add_form` keeps what was typed into "Add a device by hand"."""
    snapshot = current_dashboard().rules.read()
    devices = all_devices(current_dashboard(), snapshot.raw)
    # Nobody has decided about a new device yet: those stay at the top until someone does
    # (the sort is stable, so each group keeps most recently seen first).
    devices.sort(key=lambda device: not device.new)
    names = child_names(snapshot.raw)
    return (
        render_template(
            "devices/index.html",
            devices=devices,
            children=list(names.items()),
            names=names,
            household=HOUSEHOLD_OWNER,
            visitor=VISITOR_OWNER,
            version=snapshot.version,
            file_problems=snapshot.problems,
            checklist=device_records.CHECKLIST.values(),
            ago=lambda then: ago(time.time() - then),
            any_new=any(d.new for d in devices),
            filterd_ran=current_dashboard().filterd_db().exists,
            unassigned=sum(1 for d in devices if d.owner is None),
            unknown_choice=current(snapshot.raw),
            unknown_described=described(snapshot.raw),
            unknown_choices=CHOICES,
            errors=errors or {},
            records=device_records.read_many(
                current_dashboard().db(), [d.key for d in devices if d.key]
            ),
            add_form=add_form or {"address": "", "name": "", "owner": ""},
        ),
        status,
    )


@blueprint.route("/devices/")
@requires(Permission.VIEW)
def index():
    return _render()


def _refused(err: ActionError, key: str, field: str):
    """An action's refusal shown next to the field it is about (the page at 4xx)."""
    if err.failure is Failure.NOT_FOUND:
        flash(str(err), "error")
        return redirect(url_for("devices.index"))
    status = 409 if err.failure is Failure.STALE else 400
    problems = "; ".join(err.problems)
    message = str(err) if err.failure is not Failure.REFUSED else f"Not saved: {problems}"
    return _render({(key, err.field or field): message}, status=status)


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


def _device_key() -> str:
    return request.form.get("device") or request.form.get("mac", "")


@blueprint.route("/devices/assign", methods=["POST"])
@requires(Permission.EDIT_RULES)
def assign_device():
    key, owner = _device_key(), request.form.get("owner", "")
    try:
        done = assign(
            current_dashboard(),
            g.user,
            key,
            owner,
            request.form.get("version", ""),
        )
    except ActionError as err:
        return _refused(err, key, "owner")
    if done.owner_name == "a visitor":
        flash(
            f"{done.device.label} is a visitor's device: it is filtered as devices nobody has"
            " assigned are.",
            "ok",
        )
    elif owner != HOUSEHOLD_OWNER:
        said = f"{done.device.label} now follows the rules of {done.owner_name}."
        return _to_record_if_missing(done.device.key, said)
    else:
        flash(f"{done.device.label} now follows the rules of {done.owner_name}.", "ok")
    return redirect(url_for("devices.index"))


@blueprint.route("/devices/rename", methods=["POST"])
@requires(Permission.EDIT_RULES)
def rename():
    key, name = _device_key(), request.form.get("name", "")
    try:
        rename_device(current_dashboard(), g.user, key, name, request.form.get("version", ""))
    except ActionError as err:
        return _refused(err, key, "name")
    flash(f"Renamed to {name.strip()}.", "ok")
    return redirect(url_for("devices.index"))


@blueprint.route("/devices/remove", methods=["POST"])
@requires(Permission.EDIT_RULES)
def remove():
    key = _device_key()
    try:
        remove_device(current_dashboard(), g.user, key, request.form.get("version", ""))
    except ActionError as err:
        return _refused(err, key, "remove")
    flash(
        "Removed. If it joins the Wi-Fi again it shows here as new, filtered as devices nobody"
        " has assigned are.",
        "ok",
    )
    return redirect(url_for("devices.index"))


@blueprint.route("/devices/add", methods=["POST"])
@requires(Permission.EDIT_RULES)
def add():
    form = {key: request.form.get(key, "") for key in ("address", "name", "owner")}
    try:
        device = add_device(
            current_dashboard(),
            g.user,
            form["address"],
            form["name"],
            form["owner"],
            request.form.get("version", ""),
        )
    except ActionError as err:
        status = 409 if err.failure is Failure.STALE else 400
        message = str(err) if not err.problems else "Not saved: " + "; ".join(err.problems)
        return _render({("add", err.field or "address"): message}, form, status)
    if form["owner"] not in (HOUSEHOLD_OWNER, VISITOR_OWNER, ""):
        return _to_record_if_missing(device.key, f"Added {device.label}.")
    flash(f"Added {device.label}.", "ok")
    return redirect(url_for("devices.index"))


def _to_record_if_missing(key: str | None, said: str):
    """After a device became a child's: the guidance asks who bought it, who holds its
    account, whether it was reset and set up, so the carer lands on its record until that is
    filled in (records are kept by its MAC, or its address for a device known only by it)."""
    if key and not device_records.read(current_dashboard().db(), key).filled_in:
        flash(said + " Now fill in its record.", "ok")
        return redirect(url_for("device_record.show", mac=key))
    flash(said, "ok")
    return redirect(url_for("devices.index"))
