"""Filling in a device's record and ticking its set-up checklist, with the audit trail.

The record is saved once its answers are all acceptable; each checklist item ticked or unticked
is one audit entry of its own with its author, so the trail says who said the location sharing
was off, and when.
"""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple

from dashboard.actions import ActionError, Failure
from dashboard.actions.devices import child_names
from dashboard.data import audit, device_records
from dashboard.data.device_records import CHECK_NAMES, RecordInput
from dashboard.data.devices import HOUSEHOLD_OWNER, listed_entry, seen_devices


class KnownDevice(NamedTuple):
    mac: str
    name: str  # what the carer calls it: the rules' name, its own name, or its address
    owner: str | None  # a child id, HOUSEHOLD_OWNER, or None (not assigned)
    owner_name: str  # the child's name, "the household" or "nobody yet"


def known_device(dashboard: Any, mac: str) -> KnownDevice:
    """A device filterd has seen or the rules list by its address; ActionError otherwise."""
    found = device_records.normal_mac(mac)
    if found is None:
        raise ActionError(Failure.NOT_FOUND, "That is not a device this home knows.")
    raw = dashboard.rules.read().raw
    seen = {d.mac: d for d in seen_devices(dashboard.filterd_db(), raw)}
    entry = listed_entry(raw, found, None)
    device = seen.get(found)
    if device is None and entry is None:
        raise ActionError(Failure.NOT_FOUND, "That is not a device this home knows.")
    listed_name = entry.get("name") if entry is not None else None
    name = (
        (listed_name if isinstance(listed_name, str) else None)
        or (device.hostname or device.vendor if device is not None else None)
        or found
    )
    owner = device.owner if device is not None else _owner(entry)
    names = child_names(raw)
    if owner is None:
        owner_name = "nobody yet"
    elif owner == HOUSEHOLD_OWNER:
        owner_name = "the household"
    else:
        owner_name = names.get(owner, owner)
    return KnownDevice(found, str(name), owner, owner_name)


def _owner(entry: dict | None) -> str | None:
    if entry is None:
        return None
    owner = entry.get("owner")
    return HOUSEHOLD_OWNER if owner in (None, False, HOUSEHOLD_OWNER) else str(owner)


def save_record(
    dashboard: Any, user: Any, mac: str, typed: RecordInput, today: date
) -> tuple[KnownDevice, dict[str, str]]:
    """Check and store the record; returns the device and the problems by field (nothing is
    stored when there is any)."""
    device = known_device(dashboard, mac)
    problems = device_records.problems(typed, today)
    if problems:
        return device, problems
    db = dashboard.db()
    changed = device_records.save(db, device.mac, typed, user.name)
    reset = device_records.RESET_CHOICES[typed.reset].split(",")[0].lower()
    audit.record(
        db,
        user.name,
        "device.record",
        f"{device.name} ({device.mac})",
        f"bought by {typed.bought_by.strip()}; account held by {typed.account_holder.strip()};"
        f" handed to the carer {typed.handed_over.strip()}; reset: {reset}",
    )
    for item, done in changed:
        audit.record(
            db,
            user.name,
            "device.check" if done else "device.uncheck",
            f"{device.name} ({device.mac})",
            f"{'ticked' if done else 'unticked'}: {CHECK_NAMES[item]}",
        )
    return device, {}
