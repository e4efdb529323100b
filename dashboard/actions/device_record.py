"""Filling in a device's record and ticking its set-up checklist, with the audit trail.

The record is saved once its answers are all acceptable; each checklist item ticked or unticked
is one audit entry of its own with its author, so the trail says who said the location sharing
was off, and when.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, NamedTuple

from dashboard.actions import ActionError, Failure
from dashboard.actions.devices import find_device
from dashboard.data import audit, device_records
from dashboard.data.device_records import CHECK_NAMES, RecordInput
from dashboard.data.devices import HOUSEHOLD_OWNER
from dashboard.data.rules_file import child_names

if TYPE_CHECKING:
    from dashboard.app import Dashboard
    from dashboard.data.accounts import User


class KnownDevice(NamedTuple):
    key: str  # its MAC, or its address for a device known only by it: what the record is kept by
    name: str  # what the carer calls it: the rules' name, its own name, or its address
    owner: str | None  # a child id, HOUSEHOLD_OWNER, or None (not assigned)
    owner_name: str  # the child's name, "the household" or "nobody yet"
    mac: str = ""  # "" for a device known only by its address


def known_device(dashboard: Dashboard, key: str) -> KnownDevice:
    """A device on the Devices page (seen by filterd, listed in the rules by MAC or address,
    or kept when its child left), named by its MAC or address; ActionError otherwise."""
    raw = dashboard.rules.read().raw
    try:
        device = find_device(dashboard, raw, key)
    except ActionError:
        raise ActionError(Failure.NOT_FOUND, "That is not a device this home knows.") from None
    name = device.listed_name or device.given_name or device.hostname or device.vendor
    if device.owner is None:
        owner_name = "nobody yet"
    elif device.owner == HOUSEHOLD_OWNER:
        owner_name = "the household"
    else:
        owner_name = child_names(raw).get(device.owner, device.owner)
    return KnownDevice(device.key, name or device.key, device.owner, owner_name, device.mac)


def save_record(
    dashboard: Dashboard, user: User, mac: str, typed: RecordInput, today: date
) -> tuple[KnownDevice, dict[str, str]]:
    """Check and store the record; returns the device and the problems by field (nothing is
    stored when there is any)."""
    device = known_device(dashboard, mac)
    problems = device_records.problems(typed, today)
    if problems:
        return device, problems
    db = dashboard.db()
    changed = device_records.save(db, device.key, typed, user.name)
    reset = device_records.RESET_CHOICES[typed.reset].split(",")[0].lower()
    audit.record(
        db,
        user.name,
        "device.record",
        f"{device.name} ({device.key})",
        f"bought by {typed.bought_by.strip()}; account held by {typed.account_holder.strip()};"
        f" handed to the carer {typed.handed_over.strip()}; reset: {reset}",
    )
    for item, done in changed:
        audit.record(
            db,
            user.name,
            "device.check" if done else "device.uncheck",
            f"{device.name} ({device.key})",
            f"{'ticked' if done else 'unticked'}: {CHECK_NAMES[item]}",
        )
    return device, {}
