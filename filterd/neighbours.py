"""The kernel's neighbour table: which MAC address is behind each IPv4 address right now.

Enough to apply a device's rules by MAC address when it is on the same network as the box;
device discovery (ARP/DHCP watching, IPv6) builds on this.
"""

from __future__ import annotations

from pathlib import Path

ARP_TABLE = Path("/proc/net/arp")
_COMPLETE = 0x2


def read_neighbours(path: Path = ARP_TABLE) -> dict[str, str]:
    """IPv4 address -> lower-case MAC for every complete entry (empty when unreadable)."""
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
