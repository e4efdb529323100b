"""What discovery learns from one packet, lease line or neighbour entry."""

from __future__ import annotations

import enum
from typing import NamedTuple


class Source(enum.StrEnum):
    ARP = "arp"
    DHCP = "dhcp"
    NDP = "ndp"  # IPv6 neighbour discovery
    NEIGHBOURS = "neighbours"  # the kernel's neighbour table
    LEASES = "leases"  # a DHCP server's lease file
    SCAN = "scan"  # an answer to our ARP sweep


class Observation(NamedTuple):
    mac: str  # lower case, colon separated
    address: str | None  # IPv4 or IPv6 text, when the packet tells us one
    source: Source
    hostname: str | None = None  # DHCP option 12
    vendor_class: str | None = None  # DHCP option 60
    fingerprint: str | None = None  # DHCP option 55, comma-separated codes


class Malformed(Exception):
    """A packet that breaks its own format: counted by `reason` and skipped."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
