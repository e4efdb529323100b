"""The kernel's neighbour tables: which MAC address is behind each address right now.

Enough to apply a device's rules by MAC address when it is on the same network as the box,
for IPv4 (/proc/net/arp) and IPv6 (`ip -6 neigh`: phones ask over IPv6 from addresses that
change every day). Device discovery (ARP/DHCP watching) builds on this.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ARP_TABLE = Path("/proc/net/arp")
_COMPLETE = 0x2
_UNUSABLE = {"FAILED", "INCOMPLETE", "NOARP"}


def read_neighbours(path: Path = ARP_TABLE) -> dict[str, str]:
    """Address -> lower-case MAC for every usable IPv4 and IPv6 entry (empty when unreadable)."""
    table = _ipv4(path)
    table.update(_ipv6())
    return table


def _ipv4(path: Path) -> dict[str, str]:
    try:
        lines = path.read_text().splitlines()[1:]
    except OSError:
        return {}
    table = {}
    for line in lines:
        fields = line.split()
        if len(fields) >= 4 and int(fields[2], 16) & _COMPLETE:
            table[fields[0]] = fields[3].lower()
    return table


def _ipv6() -> dict[str, str]:
    ip = shutil.which("ip")
    if ip is None:
        return {}
    try:
        out = subprocess.run(
            [ip, "-6", "neigh", "show"], capture_output=True, text=True, timeout=2, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    table = {}
    for line in out.splitlines():
        fields = line.split()
        if "lladdr" in fields and fields[-1] not in _UNUSABLE:
            table[fields[0].partition("%")[0]] = fields[fields.index("lladdr") + 1].lower()
    return table
