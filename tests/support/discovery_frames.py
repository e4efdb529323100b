"""Discovery frames as devices send them (scapy), and the IEEE registry this machine has."""

from __future__ import annotations

import re

from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Packet, Raw
from scapy.utils import mac2str

from filterd.discovery.decode import DHCP_MAGIC
from filterd.discovery.oui import OUI_FILES

MAC = "00:1a:2b:3c:4d:5e"
BROADCAST = "ff:ff:ff:ff:ff:ff"
_OUI_LINE = re.compile(r"^([0-9A-F]{2})-([0-9A-F]{2})-([0-9A-F]{2})\s+\(hex\)\s+(.+?)\s*$")


def dhcp_request(
    mac: str = MAC,
    hostname: bytes | None = b"sams-phone",
    vendor_class: bytes | None = b"android-dhcp-13",
    parameters: list[int] | None = None,
    requested: str | None = "10.215.0.10",
) -> Packet:
    """A DHCPREQUEST as a phone broadcasts it (src 0.0.0.0, port 68 -> 67)."""
    options: list = [("message-type", "request")]
    if requested:
        options.append(("requested_addr", requested))
    if hostname is not None:
        options.append(("hostname", hostname))
    if vendor_class is not None:
        options.append(("vendor_class_id", vendor_class))
    options.append(("param_req_list", parameters or [1, 3, 6, 15, 26, 28, 51, 58, 59, 43]))
    options.append("end")
    return (
        Ether(src=mac, dst=BROADCAST)
        / IP(src="0.0.0.0", dst="255.255.255.255")
        / UDP(sport=68, dport=67)
        / BOOTP(op=1, chaddr=mac2str(mac), xid=0x1234)
        / DHCP(options=options)
    )


def bootp_bytes(mac: str, options: bytes, magic: bytes = DHCP_MAGIC) -> bytes:
    """A BOOTREQUEST payload with hand-written option bytes (scapy would repair bad lengths)."""
    header = bytes(BOOTP(op=1, chaddr=mac2str(mac), xid=0x1234))[:236]
    return header + magic + options


def in_udp(payload: bytes, mac: str = MAC) -> Packet:
    return (
        Ether(src=mac, dst=BROADCAST)
        / IP(src="0.0.0.0", dst="255.255.255.255")
        / UDP(sport=68, dport=67)
        / Raw(payload)
    )


def registry_entries() -> dict[str, list[str]]:
    """Prefix ("00:1a:2b") -> organisations, from whichever IEEE file this machine has."""
    for path in OUI_FILES:
        if path.exists():
            entries: dict[str, list[str]] = {}
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                if match := _OUI_LINE.match(line):
                    entries.setdefault(f"{match[1]}:{match[2]}:{match[3]}".lower(), []).append(
                        match[4]
                    )
            return entries
    return {}


def real_vendor_prefix() -> tuple[str, str] | None:
    """A globally administered prefix listed once in the IEEE registry, and its organisation."""
    for prefix, organisations in registry_entries().items():
        if len(organisations) == 1 and not int(prefix[:2], 16) & 0x03:
            return prefix, organisations[0]
    return None
