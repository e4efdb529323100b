"""Turn one captured Ethernet frame (ARP, DHCP or IPv6 neighbour discovery) into observations.

scapy splits the frame into its layers; the parts a hostile device controls byte by byte
(DHCP options, neighbour-discovery options) are read here with explicit bounds, and any
packet that breaks its own format raises Malformed, so the caller counts it and carries on.
"""

from __future__ import annotations

import ipaddress

from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import ARP, Ether

from filterd.discovery.observation import Malformed, Observation, Source
from filterd.text.people import text_problem

DHCP_MAGIC = b"\x63\x82\x53\x63"
BOOTREQUEST, BOOTREPLY = 1, 2
DHCPACK = 5
MAX_PARAMETERS = 64  # real clients ask for 10-30 options; hundreds is a crafted packet
ND_OPTIONS_AT = {133: 8, 134: 16, 135: 24, 136: 24}  # where options start, per ICMPv6 type
OPT_SOURCE_LL, OPT_TARGET_LL = 1, 2


def decode(frame: bytes) -> list[Observation]:
    """Observations in one frame (empty when it says nothing about a device)."""
    try:
        packet = Ether(frame)
    except Exception as err:  # scapy on hostile bytes
        raise Malformed("undecodable") from err
    if ARP in packet:
        return _arp(packet[ARP])
    if IP in packet and UDP in packet and {packet[UDP].sport, packet[UDP].dport} & {67, 68}:
        return _dhcp(bytes(packet[UDP].payload))
    if IPv6 in packet and packet[IPv6].nh == 58:
        return _neighbour_discovery(packet[IPv6])
    return []


def mac_text(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def _usable_mac(mac: str) -> bool:
    first = int(mac[:2], 16)
    return mac != "00:00:00:00:00:00" and not first & 0x01  # not zero, not multicast


def _arp(arp: ARP) -> list[Observation]:
    if arp.hwlen != 6 or arp.plen != 4 or arp.hwtype != 1 or arp.ptype != 0x0800:
        raise Malformed("arp_not_ethernet_ipv4")
    mac = str(arp.hwsrc).lower()
    if not _usable_mac(mac):
        return []
    address = str(arp.psrc)
    return [Observation(mac, None if address == "0.0.0.0" else address, Source.ARP)]


def dhcp_options(data: bytes) -> dict[int, bytes]:
    """Options of a BOOTP payload, each checked against the packet's end."""
    if len(data) < 240:
        raise Malformed("dhcp_short")
    if data[236:240] != DHCP_MAGIC:
        raise Malformed("dhcp_no_magic_cookie")
    options: dict[int, bytes] = {}
    pos = 240
    while pos < len(data):
        code = data[pos]
        if code == 255:
            break
        if code == 0:
            pos += 1
            continue
        if pos + 1 >= len(data) or pos + 2 + data[pos + 1] > len(data):
            raise Malformed("dhcp_option_overrun")
        length = data[pos + 1]
        options[code] = options.get(code, b"") + data[pos + 2 : pos + 2 + length]  # RFC 3396
        pos += 2 + length
    return options


def _text(raw: bytes, reason: str) -> str:
    """A host name or vendor class: printable text only (a NUL, a control byte or a character
    that reverses the direction of text is hostile: the name is shown to carers)."""
    text = raw.decode("utf-8", errors="replace")
    if "\ufffd" in text or text_problem(text, len(text)) is not None:
        raise Malformed(reason)
    return text[:64]


def _dhcp(data: bytes) -> list[Observation]:
    options = dhcp_options(data)
    op, htype, hlen = data[0], data[1], data[2]
    if htype != 1 or hlen != 6:
        raise Malformed("dhcp_not_ethernet")
    mac = mac_text(data[28:34])
    if not _usable_mac(mac):
        return []
    kind = options.get(53, b"\x00")[:1]
    if op == BOOTREPLY:
        yiaddr = str(ipaddress.IPv4Address(data[16:20]))
        if kind == bytes([DHCPACK]) and yiaddr != "0.0.0.0":
            return [Observation(mac, yiaddr, Source.DHCP)]
        return []
    if op != BOOTREQUEST:
        raise Malformed("dhcp_bad_op")
    address = None
    if len(options.get(50, b"")) == 4:
        address = str(ipaddress.IPv4Address(options[50]))
    elif data[12:16] != bytes(4):
        address = str(ipaddress.IPv4Address(data[12:16]))
    parameters = options.get(55)
    if parameters is not None and len(parameters) > MAX_PARAMETERS:
        raise Malformed("dhcp_parameter_list")
    return [
        Observation(
            mac,
            address,
            Source.DHCP,
            hostname=_text(options[12], "dhcp_hostname") if 12 in options else None,
            vendor_class=_text(options[60], "dhcp_vendor_class") if 60 in options else None,
            fingerprint=",".join(str(b) for b in parameters) if parameters else None,
        )
    ]


def _neighbour_discovery(ipv6: IPv6) -> list[Observation]:
    body = bytes(ipv6.payload)
    if not body or body[0] not in ND_OPTIONS_AT:
        return []
    kind = body[0]
    start = ND_OPTIONS_AT[kind]
    if len(body) < start:
        raise Malformed("ndp_short")
    wanted = OPT_TARGET_LL if kind == 136 else OPT_SOURCE_LL
    mac = None
    pos = start
    while pos < len(body):
        if pos + 2 > len(body) or body[pos + 1] == 0 or pos + 8 * body[pos + 1] > len(body):
            raise Malformed("ndp_option_overrun")
        if body[pos] == wanted and body[pos + 1] == 1:
            mac = mac_text(body[pos + 2 : pos + 8])
        pos += 8 * body[pos + 1]
    if mac is None or not _usable_mac(mac):
        return []
    address = str(ipaddress.IPv6Address(body[8:24])) if kind == 136 else str(ipv6.src)
    if address == "::" or kind == 134:  # duplicate-address probes; routers are not devices
        return [] if kind == 134 else [Observation(mac, None, Source.NDP)]
    return [Observation(mac, address, Source.NDP)]
