"""The JSON API for a device's record and set-up checklist: the same action
(dashboard.actions.device_record), checks and audit entries (one per tick and untick) as the
page. Records are kept by hardware address: a device listed only by IP address has none."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, g, jsonify

from dashboard.actions import ActionError
from dashboard.actions.device_record import KnownDevice, known_device, save_record
from dashboard.app import current_dashboard
from dashboard.data import device_records
from dashboard.data.accounts import Permission
from dashboard.data.device_records import CHECKLIST, DeviceRecord, RecordInput
from dashboard.data.home_timezone import home_timezone
from dashboard.web.api import api_requires, json_body

blueprint = Blueprint("device_record_api", __name__, url_prefix="/api")  # openapi.py describes it


def _json(device: KnownDevice, record: DeviceRecord) -> dict[str, Any]:
    return {
        "key": device.key,
        "mac": device.mac or None,
        "name": device.name,
        "owner": device.owner,
        "filled_in": record.filled_in,
        "bought_by": record.bought_by,
        "account_holder": record.account_holder,
        "handed_over": record.handed_over,
        "reset": record.reset,
        "updated": record.updated,
        "updated_by": record.updated_by,
        "checklist": {
            item: {
                "done": bool(check and check.done),
                "by": check.by if check else "",
                "ts": check.ts if check else None,
            }
            for item in CHECKLIST
            for check in [record.checks.get(item)]
        },
    }


def _device(key: str) -> KnownDevice | tuple:
    try:
        return known_device(current_dashboard(), key)
    except ActionError as err:
        return jsonify(error=str(err)), err.failure.status


@blueprint.get("/devices/<key>/record")
@api_requires(Permission.VIEW)
def record(key: str):
    device = _device(key)
    if not isinstance(device, KnownDevice):
        return device
    return jsonify(_json(device, device_records.read(current_dashboard().db(), device.key)))


@blueprint.post("/devices/<key>/record")
@api_requires(Permission.EDIT_RULES)
def save(key: str):
    """{bought_by, account_holder, handed_over (YYYY-MM-DD), reset (yes, no, not_sure),
    checklist: [the items done]}: the whole record, as the page's form sends it."""
    body = json_body()
    ticked = body.get("checklist", [])
    typed = RecordInput(
        *(str(body.get(field, ""))[:200] for field in
          ("bought_by", "account_holder", "handed_over", "reset")),
        frozenset(str(item) for item in ticked) if isinstance(ticked, list) else frozenset({""}),
    )  # fmt: skip
    dashboard = current_dashboard()
    today = datetime.now(home_timezone(dashboard.rules.read())).date()
    try:
        device, problems = save_record(dashboard, g.user, key, typed, today)
    except ActionError as err:
        return jsonify(error=str(err)), err.failure.status
    if problems:
        return jsonify(error="Not saved: see each field.", fields=problems), 400
    return jsonify(_json(device, device_records.read(dashboard.db(), device.key)))
