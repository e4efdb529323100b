"""A device's record and set-up checklist: read by everyone who may see devices,
filled in by carers. Assigning a device to a child lands here until the record is filled in."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from dashboard.actions import ActionError
from dashboard.actions.device_record import known_device, save_record
from dashboard.app import current_dashboard
from dashboard.data import device_records
from dashboard.data.accounts import Permission
from dashboard.data.device_records import CHECKLIST, RESET_CHOICES, RecordInput
from dashboard.data.home_timezone import home_timezone
from dashboard.web.security import requires

blueprint = Blueprint("device_record", __name__, template_folder="../templates")

FIELDS = ("bought_by", "account_holder", "handed_over", "reset")


def _device(mac: str):
    try:
        return known_device(current_dashboard(), mac)
    except ActionError as err:
        abort(404, str(err))


def _today():
    return datetime.now(home_timezone(current_dashboard().rules.read())).date()


def _render(device, record, errors: dict[str, str], ticked=None, status: int = 200):
    """The form: `ticked` is what the person ticked when a save was refused (their ticks are
    shown again as they left them), else the stored checklist."""
    if ticked is None:
        ticked = {item for item, check in record.checks.items() if check.done}
    return (
        render_template(
            "devices/record.html",
            device=device,
            record=record,
            errors=errors,
            ticked=ticked,
            may_edit=g.user.may(Permission.EDIT_RULES),
            checklist=CHECKLIST,
            reset_choices=RESET_CHOICES,
            today=_today().isoformat(),
        ),
        status,
    )


@blueprint.route("/devices/<mac>/record")
@requires(Permission.VIEW)
def show(mac: str):
    device = _device(mac)
    return _render(device, device_records.read(current_dashboard().db(), device.key), {})


@blueprint.route("/devices/<mac>/record", methods=["POST"])
@requires(Permission.EDIT_RULES)
def save(mac: str):
    typed = RecordInput(
        *(request.form.get(field, "")[:200] for field in FIELDS),
        frozenset(request.form.getlist("check")),
    )
    try:
        device, errors = save_record(current_dashboard(), g.user, mac, typed, _today())
    except ActionError as err:
        abort(404, str(err))
    if errors:
        stored = device_records.read(current_dashboard().db(), device.key)
        shown = stored._replace(
            bought_by=typed.bought_by,
            account_holder=typed.account_holder,
            handed_over=typed.handed_over,
            reset=typed.reset,
        )
        return _render(device, shown, errors, typed.ticked, 400)
    flash(f"Saved the record for {device.name}.", "ok")
    return redirect(url_for("device_record.show", mac=device.key))
