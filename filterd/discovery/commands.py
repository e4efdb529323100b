"""`filterd devices list` and `filterd devices scan`."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from filterd.config import load_config_or_report
from filterd.db.devices import DeviceStore, Sighting
from filterd.text.people import escaped


def _owners(config) -> dict[str, str]:
    """MAC or address -> owner text, from the rules file (when it reads)."""
    from filterd.rules.parse import RulesError, load_rules

    if config.rules is None:
        return {}
    try:
        rules = load_rules(config.rules)
    except RulesError:
        return {}
    owners = {}
    for device in rules.devices:
        owner = device.owner or "household"
        for key in (device.mac, device.ip):
            if key:
                owners[key] = f"{owner} ({device.name})"
    return owners


def list_devices(path: Path) -> int:
    config = load_config_or_report(path)
    if config is None:
        return 1
    rows = DeviceStore(config.database).known()
    owners = _owners(config)
    print("mac                address          name             vendor                 owner")
    for d in rows:
        owner = owners.get(d.mac) or owners.get(d.address or "") or "unknown device"
        vendor = "private address" if d.private else (d.vendor or "")
        seen = time.strftime("%Y-%m-%d %H:%M", time.localtime(d.last_seen))
        print(
            f"{d.mac}  {d.address or '':15}  {escaped(d.hostname or '')[:15]:15}  "
            f"{vendor[:21]:21}  {escaped(owner)}  (last seen {seen})"
        )
    print(f"{len(rows)} devices")
    return 0


def scan_devices(path: Path, interface: str | None) -> int:
    from filterd.discovery.oui import Vendors, is_private
    from filterd.discovery.scan import arp_sweep

    config = load_config_or_report(path)
    if config is None:
        return 1
    interface = interface or config.discovery.interface
    if not interface:
        print("no interface: set discovery.interface or pass --interface", file=sys.stderr)
        return 1
    try:
        found = arp_sweep(interface)
    except PermissionError:
        print("an ARP sweep needs root or CAP_NET_RAW", file=sys.stderr)
        return 1
    vendors = Vendors()
    now = time.time()
    sightings = [
        Sighting(o.mac, o.address, None, vendors.vendor(o.mac), None, None, is_private(o.mac), now)
        for o in found
    ]
    new = set(DeviceStore(config.database).record(sightings))
    for s in sightings:
        print(f"{s.mac}  {s.address}  {s.vendor or ''}{'  NEW' if s.mac in new else ''}")
    print(f"{len(found)} devices answered on {interface}")
    return 0
