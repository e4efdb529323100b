"""Devices as the dashboard shows them: what filterd saw (filterd.db) joined to the rules' owners.

No Flask here. filterd.db is read through filterd.db.read: before filterd has made it or
discovered anything, there are no devices.
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING, Any, NamedTuple

from dashboard.data.device_decisions import KEPT, REMOVED, VISITOR, Decision, all_decisions
from filterd.db.read import FilterdReader
from filterd.rules.model import Device
from filterd.rules.parse import MAX_NAME
from filterd.text.people import plain_name, text_problem

if TYPE_CHECKING:
    from dashboard.app import Dashboard

HOUSEHOLD_OWNER = "none"
NOT_SEEN = 0.0  # first_seen and last_seen of a device listed by hand that filterd has not seen


class SeenDevice(NamedTuple):
    mac: str  # "" for a device listed by its address only
    address: str | None
    hostname: str | None
    vendor: str | None
    private: bool
    first_seen: float
    last_seen: float
    new: bool  # nobody has decided about it yet (assigned, visitor's, or removed)
    owner: str | None  # a child id, HOUSEHOLD_OWNER, or None when the rules do not list it
    listed_name: str | None  # the name the rules give it
    decision: str = ""  # device_decisions.VISITOR for a visitor's device the rules do not list
    given_name: str = ""  # a name given on the Devices page while the rules do not list it

    @property
    def key(self) -> str:
        """How pages and the API name this device: its MAC, else its address."""
        return self.mac or self.address or ""

    @property
    def label(self) -> str:
        return self.listed_name or self.given_name or self.hostname or "unnamed device"

    @property
    def seen(self) -> bool:
        return self.last_seen != NOT_SEEN


def seen_devices(
    reader: FilterdReader,
    raw_rules: dict[str, Any],
    decisions: dict[str, Decision] | None = None,
) -> list[SeenDevice]:
    """Every device filterd has seen, most recently seen first, with its owner from the rules,
    then those the rules list that filterd has not seen (added by hand), then those kept on the
    list when their child left. A device removed on the Devices page is left out until it is
    seen again after its removal."""
    decisions = decisions or {}
    devices = []
    matched: set[int] = set()
    known: set[str] = set()  # the MACs and addresses of every device listed so far
    for row in reader.devices_seen():
        mac, address, hostname, vendor = row.mac, row.address, row.hostname, row.vendor
        private, first_seen, last_seen = row.private, row.first_seen, row.last_seen
        if hostname is not None and text_problem(hostname, MAX_NAME) is not None:
            hostname = None  # a device's own name with control or direction characters: unshown
        entry = listed_entry(raw_rules, mac, address)
        decided = decisions.get(mac)
        if entry is not None:
            matched.add(id(entry))
        elif decided is not None and decided.decision == REMOVED and last_seen <= decided.decided:
            continue
        devices.append(_device(mac, address, hostname, vendor, bool(private), first_seen,
                               last_seen, entry, decided))  # fmt: skip
        known.update((mac, address or ""))
    for entry in _entries(raw_rules):
        if id(entry) in matched:
            continue
        mac = _mac_text(entry.get("mac"))
        address = str(entry["ip"]).strip() if entry.get("ip") is not None else None
        devices.append(_device(mac, address, None, None, False, NOT_SEEN, NOT_SEEN, entry, None))
        known.update((mac, address or ""))
    for key, decided in decisions.items():
        if decided.decision == KEPT and key not in known:
            mac, address = ("", key) if device_address(key) == ("ip", key) else (key, None)
            devices.append(
                _device(mac, address, None, None, False, NOT_SEEN, NOT_SEEN, None, decided)
            )
    return devices


def _device(
    mac: str,
    address: str | None,
    hostname: str | None,
    vendor: str | None,
    private: bool,
    first_seen: float,
    last_seen: float,
    entry: dict[str, Any] | None,
    decided: Decision | None,
) -> SeenDevice:
    owner = listed_name = None
    decision = given = ""
    if entry is not None:
        owner = _owner_text(entry.get("owner"))
        listed_name = entry.get("name") if isinstance(entry.get("name"), str) else None
    elif decided is not None:
        decision = decided.decision if decided.decision in (VISITOR, KEPT) else ""
        given = decided.name
    new = owner is None and decision != VISITOR
    return SeenDevice(mac, address, hostname, vendor, private, first_seen, last_seen, new,
                      owner, listed_name, decision, given)  # fmt: skip


def _mac_text(value: Any) -> str:
    return value.strip().lower().replace("-", ":") if isinstance(value, str) else ""


def _owner_text(owner: Any) -> str:
    if owner is None or owner is False or owner == HOUSEHOLD_OWNER:
        return HOUSEHOLD_OWNER
    return str(owner)


def _entries(raw_rules: dict[str, Any]) -> list[dict[str, Any]]:
    devices = raw_rules.get("devices")
    return [d for d in devices if isinstance(d, dict)] if isinstance(devices, list) else []


def _same_mac(a: Any, b: str) -> bool:
    return isinstance(a, str) and a.strip().lower().replace("-", ":") == b.lower()


def listed_devices(raw_rules: dict[str, Any]) -> list[Device]:
    """The rules' device entries as filterd reads them (MAC and address in canonical form; an
    unusable one left out), from the file as written: a refused file still names devices."""
    found = []
    for entry in _entries(raw_rules):
        name = entry.get("name") if isinstance(entry.get("name"), str) else ""
        mac = _mac_text(entry.get("mac")) or None
        try:
            ip = (
                str(ipaddress.ip_address(str(entry.get("ip")).strip())) if entry.get("ip") else None
            )
        except ValueError:
            ip = None
        if mac or ip:
            found.append(Device(name, None, mac, ip))
    return found


def listed_entry(raw_rules: dict[str, Any], mac: str, address: str | None) -> dict | None:
    """The entry to edit for a device the dashboard knows by its MAC: by MAC first, then by
    its last address. Which entry filterd applies to an address is
    filterd.rules.identify.device_entry, not this."""
    entries = _entries(raw_rules)
    for entry in entries:
        if mac and _same_mac(entry.get("mac"), mac):
            return entry
    if address:
        for entry in entries:
            if entry.get("mac") is None and str(entry.get("ip", "")).strip() == address:
                return entry
    return None


def assign(raw_rules: dict[str, Any], device: SeenDevice, owner: str, name: str | None) -> None:
    """Give a device an owner: a child id or HOUSEHOLD_OWNER; adds its entry (by MAC, else by
    address) if the rules do not list it yet, with `name` when it has none.

    Changes raw_rules in place; the caller saves them with the version check.
    """
    entry = listed_entry(raw_rules, device.mac, device.address)
    if entry is None:
        devices = raw_rules.get("devices")
        if not isinstance(devices, list):
            devices = raw_rules["devices"] = []
        entry = {"mac": device.mac} if device.mac else {"ip": device.address}
        devices.append(entry)
    name = plain_name(name, MAX_NAME) if name else None  # a device's own name may hold < >
    if name and not entry.get("name"):
        entry["name"] = name
    entry["owner"] = owner


def unlist(raw_rules: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    """Take these entries out of the rules' device list (in place)."""
    gone = {id(entry) for entry in entries}
    devices = raw_rules.get("devices")
    if isinstance(devices, list):
        raw_rules["devices"] = [d for d in devices if id(d) not in gone]


def listed_entries(raw_rules: dict[str, Any]) -> list[dict[str, Any]]:
    """Every device entry in the rules."""
    return _entries(raw_rules)


def owned_by(raw_rules: dict[str, Any], child: str) -> list[dict[str, Any]]:
    """The rules' entries of a child's devices."""
    return [entry for entry in _entries(raw_rules) if entry.get("owner") == child]


_MAC = re.compile(r"[0-9a-f]{2}([:-])[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}")
NOT_AN_ADDRESS = (
    "That doesn't look like a device address. It looks like aa:bb:cc:dd:ee:ff or 192.168.1.23"
)


def device_address(text: str) -> tuple[str, str] | None:
    """("mac", aa:bb:...) or ("ip", address) for what a person typed; None when it is neither."""
    text = text.strip().lower()
    if _MAC.fullmatch(text):
        return "mac", text.replace("-", ":")
    try:
        if "%" in text:
            return None
        return "ip", str(ipaddress.ip_address(text))
    except ValueError:
        return None


def all_devices(dashboard: Dashboard, raw: dict[str, Any]) -> list[SeenDevice]:
    """Every device the Devices page lists (seen by filterd, or listed by hand)."""
    return seen_devices(dashboard.filterd_db(), raw, all_decisions(dashboard.db()))


def device_names_of(raw: dict[str, Any], child: str) -> list[str]:
    """The names of a child's devices in the rules (a child leaving's confirmation page)."""
    return [
        str(entry.get("name") or entry.get("mac") or entry.get("ip"))
        for entry in listed_entries(raw)
        if entry.get("owner") == child
    ]
