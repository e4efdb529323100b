"""The `discovery` section of filterd.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

KEYS = {"interface", "lease_files", "scan_on_start", "neighbour_table"}


@dataclass(frozen=True, slots=True)
class DiscoverySettings:
    interface: str | None = None  # the LAN interface to listen on (needs CAP_NET_RAW)
    lease_files: tuple[Path, ...] = ()  # dnsmasq, ISC dhcpd or Kea lease files to read
    scan_on_start: bool = True  # an ARP sweep of the interface's subnet at start
    neighbour_table: bool = True  # read the kernel's neighbour table (no capability needed)


def parse_discovery_settings(v: Any, raw: Any) -> DiscoverySettings:
    """v is filterd.validate.Validator: it collects problems; bad values fall back to defaults."""
    raw = v.mapping(raw, "discovery", KEYS)
    default = DiscoverySettings()
    interface = raw.get("interface")
    if interface is not None and (not isinstance(interface, str) or not interface.strip()):
        v.fail("discovery.interface", f"expected an interface name like eth0, got {interface!r}")
        interface = None
    files = raw.get("lease_files", [])
    if not isinstance(files, list) or not all(isinstance(f, str) and f for f in files):
        v.fail("discovery.lease_files", f"expected a list of file paths, got {files!r}")
        files = []
    flags = {}
    for key in ("scan_on_start", "neighbour_table"):
        value = raw.get(key, getattr(default, key))
        if not isinstance(value, bool):
            v.fail(f"discovery.{key}", f"expected true or false, got {value!r}")
            value = getattr(default, key)
        flags[key] = value
    return DiscoverySettings(
        interface=interface.strip() if interface else None,
        lease_files=tuple(Path(f) for f in files),
        **flags,
    )
