"""Devices: assign one to a child, the household or a visitor; rename, remove, add by hand.

Owners and names of listed devices are in the rules file (saved with the version check, and the
role table in dashboard.data.rule_permissions: `devices` needs EDIT_RULES, so carers and
administrators). What is decided about a device the rules do not list (a visitor's, removed, a
name) is in dashboard.db (dashboard.data.device_decisions). Each action writes one audit entry,
the same from the Devices page and the API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from dashboard.actions import ActionError, Failure, changes_text, saving
from dashboard.data import audit
from dashboard.data import device_decisions as decisions
from dashboard.data.devices import (
    HOUSEHOLD_OWNER,
    NOT_AN_ADDRESS,
    NOT_SEEN,
    SeenDevice,
    all_devices,
    assign,
    device_address,
    listed_entries,
    listed_entry,
    unlist,
)
from dashboard.data.rules_file import child_names, edited
from filterd.rules.parse import MAX_NAME
from filterd.text.people import text_problem

if TYPE_CHECKING:
    from dashboard.app import Dashboard
    from dashboard.data.accounts import User

VISITOR_OWNER = decisions.VISITOR  # the owner menu's choice for a visitor's device


class Assigned(NamedTuple):
    device: SeenDevice
    owner_name: str  # the child's name, "the household" or "a visitor"
    version: str  # the rules' version after the save


def find_device(dashboard: Dashboard, raw: dict[str, Any], key: str) -> SeenDevice:
    """The device a page or the API names: the one whose key (its MAC, else its address) it
    is, else one last seen at that address; NOT_FOUND otherwise. The key comes first: a
    device known only by its address must not be mistaken for another device that was
    since given the same address (its form would change that device's entry instead)."""
    wanted = key.strip().lower().replace("-", ":")
    devices = all_devices(dashboard, raw) if wanted else []
    for device in devices:
        if device.key == wanted:
            return device
    for device in devices:
        if wanted in (device.mac, device.address):
            return device
    raise ActionError(Failure.NOT_FOUND, "That device is not in the list any more.")


# The low bit of a MAC's first byte marks a group (multicast or broadcast) address; all zeros
# is no address. Neither is ever one device's, so an entry for it would filter nothing.
NOT_ONE_DEVICE = (
    "That is a group address (multicast or broadcast), not one device's. Use the address"
    " shown in the device's Wi-Fi settings, like aa:bb:cc:dd:ee:ff."
)


def checked_name(text: str, field: str = "name") -> str:
    """A device's name as a person typed it, or INVALID with a message for the field."""
    name = text.strip()
    if not name:
        raise ActionError(Failure.INVALID, "Give the device a name.", field=field)
    if "<" in name or ">" in name:
        raise ActionError(
            Failure.INVALID, "A device's name is plain words: leave out < and >.", field=field
        )
    if len(name) > MAX_NAME:
        raise ActionError(
            Failure.INVALID,
            f"A device's name can be at most {MAX_NAME} characters; this one has {len(name)}.",
            field=field,
        )
    if (problem := text_problem(name, MAX_NAME)) is not None:
        raise ActionError(Failure.INVALID, f"A device's name {problem}.", field=field)
    return name


def _owner_check(names: dict[str, str], owner: str, visitor: bool = True) -> str:
    allowed = set(names) | {HOUSEHOLD_OWNER} | ({VISITOR_OWNER} if visitor else set())
    if owner not in allowed:
        raise ActionError(
            Failure.INVALID,
            "Choose who uses this device: a child, the household (an adult's or shared device)"
            + (", or a visitor." if visitor else "."),
            field="owner",
        )
    return {HOUSEHOLD_OWNER: "the household", VISITOR_OWNER: "a visitor"}.get(
        owner, names.get(owner, "")
    )


def assign_device(dashboard: Dashboard, user: User, key: str, owner: str, version: str) -> Assigned:
    """Give a device an owner: a child id, "none" (the household) or "visitor" (not listed in
    the rules, so filtered as the home's choice for unknown devices says; no longer new)."""
    snapshot = dashboard.rules.read()
    device = find_device(dashboard, snapshot.raw, key)
    names = child_names(snapshot.raw)
    whose = _owner_check(names, owner)
    raw = edited(snapshot)
    entry = listed_entry(raw, device.mac, device.address)
    if owner == VISITOR_OWNER:
        if not device.mac:
            raise ActionError(
                Failure.INVALID,
                "A device added by its address cannot be a visitor's: remove it instead.",
                field="owner",
            )
        detail = "visitor"
        if entry is not None:
            unlist(raw, [entry])
            with saving():
                saved = dashboard.rules.save(raw, version, user)
            detail += f" {changes_text(saved)}"
        decisions.record(dashboard.db(), device.mac, decisions.VISITOR, user.name, device.label)
    else:
        given = device.given_name or device.hostname or device.vendor
        assign(raw, device, owner, given)
        with saving():
            saved = dashboard.rules.save(raw, version, user)
        decisions.forget(dashboard.db(), device.key)
        detail = f"{owner} {changes_text(saved)}"
    audit.record(dashboard.db(), user.name, audit.DEVICE_ASSIGN, device.key, detail)
    return Assigned(device, whose, dashboard.rules.read().version)


def rename_device(dashboard: Dashboard, user: User, key: str, name: str, version: str) -> str:
    """Name a device (in its rules entry; kept in dashboard.db while the rules do not list
    it); returns the rules' version."""
    snapshot = dashboard.rules.read()
    device = find_device(dashboard, snapshot.raw, key)
    name = checked_name(name)
    before = device.label
    raw = edited(snapshot)
    entry = listed_entry(raw, device.mac, device.address)
    if entry is not None:
        entry["name"] = name
        with saving():
            dashboard.rules.save(raw, version, user)
    else:
        decided = device.decision or ""
        decisions.record(dashboard.db(), device.key, decided, user.name, name)
    audit.record(dashboard.db(), user.name, "device.rename", device.key, f"{before} -> {name}")
    return dashboard.rules.read().version


def remove_device(dashboard: Dashboard, user: User, key: str, version: str) -> str:
    """Take a device off the list: out of the rules, and hidden until filterd sees it again
    (then it is new, filtered as unknown devices are); returns the rules' version."""
    snapshot = dashboard.rules.read()
    device = find_device(dashboard, snapshot.raw, key)
    raw = edited(snapshot)
    entry = listed_entry(raw, device.mac, device.address)
    detail = device.label
    if entry is not None:
        unlist(raw, [entry])
        with saving():
            saved = dashboard.rules.save(raw, version, user)
        detail += f"; {changes_text(saved)}"
    if device.mac:
        decisions.record(dashboard.db(), device.mac, decisions.REMOVED, user.name)
    else:
        decisions.forget(dashboard.db(), device.key)  # kept when its child left: gone now
    audit.record(dashboard.db(), user.name, audit.DEVICE_REMOVE, device.key, detail)
    return dashboard.rules.read().version


def add_device(
    dashboard: Dashboard, user: User, address: str, name: str, owner: str, version: str
) -> SeenDevice:
    """List a device by hand, by MAC or by address, for a child or the household."""
    found = device_address(address)
    if found is None:
        raise ActionError(Failure.INVALID, NOT_AN_ADDRESS, field="address")
    kind, value = found
    if kind == "mac" and (int(value[:2], 16) & 1 or not value.strip("0:")):
        raise ActionError(Failure.INVALID, NOT_ONE_DEVICE, field="address")
    name = checked_name(name)
    snapshot = dashboard.rules.read()
    names = child_names(snapshot.raw)
    _owner_check(names, owner, visitor=False)
    mac, ip = (value, None) if kind == "mac" else ("", value)
    already = next(
        (
            entry
            for entry in listed_entries(snapshot.raw)
            if value in (str(entry.get("mac", "")).strip().lower().replace("-", ":"),
                         str(entry.get("ip", "")).strip())
        ),
        None,
    )  # fmt: skip
    if already is not None:
        listed = already.get("name") or value
        raise ActionError(
            Failure.INVALID,
            f"That device is already in the list, as {listed}.",
            field="address",
        )
    device = SeenDevice(mac, ip, None, None, False, NOT_SEEN, NOT_SEEN, False, owner, name)
    raw = edited(snapshot)
    assign(raw, device, owner, name)
    with saving():
        saved = dashboard.rules.save(raw, version, user)
    decisions.forget(dashboard.db(), value)
    audit.record(
        dashboard.db(), user.name, audit.DEVICE_ADD, value, f"{owner} {changes_text(saved)}"
    )
    return device
