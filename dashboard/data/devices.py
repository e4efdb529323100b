"""Devices as the dashboard shows them: what filterd saw (filterd.db) joined to the rules' owners.

No Flask here. filterd.db is read through filterd.db.read: before filterd has made it or
discovered anything, there are no devices.
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple

from filterd.db.read import FilterdReader
from filterd.rules.parse import MAX_NAME
from filterd.text.people import text_problem

NEW_WINDOW = 86_400  # seconds: a device first seen this recently is highlighted as new
HOUSEHOLD_OWNER = "none"


class SeenDevice(NamedTuple):
    mac: str
    address: str | None
    hostname: str | None
    vendor: str | None
    private: bool
    first_seen: float
    last_seen: float
    new: bool
    owner: str | None  # a child id, HOUSEHOLD_OWNER, or None when the rules do not list it
    listed_name: str | None  # the name the rules give it


def seen_devices(
    reader: FilterdReader, raw_rules: dict[str, Any], now: float | None = None
) -> list[SeenDevice]:
    """Every device filterd has seen, most recently seen first, with its owner from the rules."""
    now = time.time() if now is None else now
    devices = []
    for row in reader.devices_seen():
        mac, address, hostname, vendor = row.mac, row.address, row.hostname, row.vendor
        private, first_seen, last_seen = row.private, row.first_seen, row.last_seen
        if hostname is not None and text_problem(hostname, MAX_NAME) is not None:
            hostname = None  # a device's own name with control or direction characters: unshown
        entry = listed_entry(raw_rules, mac, address)
        owner = listed_name = None
        if entry is not None:
            owner = _owner_text(entry.get("owner"))
            listed_name = entry.get("name") if isinstance(entry.get("name"), str) else None
        devices.append(
            SeenDevice(
                mac, address, hostname, vendor, bool(private), first_seen, last_seen,
                now - first_seen < NEW_WINDOW, owner, listed_name,
            )
        )  # fmt: skip
    return devices


def _owner_text(owner: Any) -> str:
    if owner is None or owner is False or owner == HOUSEHOLD_OWNER:
        return HOUSEHOLD_OWNER
    return str(owner)


def _entries(raw_rules: dict[str, Any]) -> list[dict[str, Any]]:
    devices = raw_rules.get("devices")
    return [d for d in devices if isinstance(d, dict)] if isinstance(devices, list) else []


def _same_mac(a: Any, b: str) -> bool:
    return isinstance(a, str) and a.strip().lower().replace("-", ":") == b.lower()


def listed_entry(raw_rules: dict[str, Any], mac: str, address: str | None) -> dict | None:
    """The rules' entry for a device: by MAC first, then by its last address."""
    entries = _entries(raw_rules)
    for entry in entries:
        if _same_mac(entry.get("mac"), mac):
            return entry
    if address:
        for entry in entries:
            if entry.get("mac") is None and str(entry.get("ip", "")).strip() == address:
                return entry
    return None


def assign(raw_rules: dict[str, Any], mac: str, owner: str, name: str | None) -> None:
    """Give a device (by MAC) an owner: a child id or HOUSEHOLD_OWNER; adds its entry if new.

    Changes raw_rules in place; the caller saves them with the version check.
    """
    devices = raw_rules.get("devices")
    if not isinstance(devices, list):
        devices = raw_rules["devices"] = []
    for entry in devices:
        if isinstance(entry, dict) and _same_mac(entry.get("mac"), mac):
            entry["owner"] = owner
            return
    entry: dict[str, Any] = {"mac": mac.lower()}
    if name:
        entry["name"] = name
    entry["owner"] = owner
    devices.append(entry)


def ago(then: float, now: float | None = None) -> str:
    """How long ago, as a carer says it: just now, 5 minutes ago, 3 hours ago, 2 days ago."""
    seconds = max(0, (time.time() if now is None else now) - then)
    for size, unit in ((86_400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"
