"""Assigning a device filterd has seen to a child, or to the household."""

from __future__ import annotations

from typing import Any, NamedTuple

from dashboard.actions import ActionError, Failure, changes_text, saving
from dashboard.data import audit
from dashboard.data.devices import HOUSEHOLD_OWNER, SeenDevice, assign, seen_devices
from dashboard.data.rules_file import edited


class Assigned(NamedTuple):
    device: SeenDevice
    owner_name: str  # the child's name, or "the household"
    version: str  # the rules' version after the save


def child_names(raw: dict[str, Any]) -> dict[str, str]:
    """{child id: name} from the raw rules, in file order."""
    children = raw.get("children")
    if not isinstance(children, dict):
        return {}
    return {
        str(cid): str(body.get("name") or cid) if isinstance(body, dict) else str(cid)
        for cid, body in children.items()
    }


def assign_device(dashboard: Any, user: Any, mac: str, owner: str, version: str) -> Assigned:
    """Give the device with this MAC an owner: a child id or "none" (the household)."""
    snapshot = dashboard.rules.read()
    seen = {d.mac: d for d in seen_devices(dashboard.filterd_db(), snapshot.raw)}
    device = seen.get(mac.strip().lower())
    if device is None:
        raise ActionError(Failure.NOT_FOUND, "That device is not one filterd has seen.")
    names = child_names(snapshot.raw)
    if owner != HOUSEHOLD_OWNER and owner not in names:
        raise ActionError(
            Failure.INVALID, "Choose a child, or household for an adult's or shared device."
        )
    raw = edited(snapshot)
    assign(raw, device.mac, owner, device.hostname or device.vendor)
    with saving():
        saved = dashboard.rules.save(raw, version, user)
    audit.record(
        dashboard.db(), user.name, "device.assign", device.mac, f"{owner} {changes_text(saved)}"
    )
    whose = "the household" if owner == HOUSEHOLD_OWNER else names[owner]
    return Assigned(device, whose, dashboard.rules.read().version)
