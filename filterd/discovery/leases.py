"""DHCP servers' lease files (dnsmasq, ISC dhcpd, Kea CSV): address, MAC and host name.

When the router hands out addresses and the operator can copy or mount its lease file, or
the box itself runs the DHCP server, this names devices without any packet capture.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import re
from pathlib import Path

from filterd.discovery.observation import Observation, Source

_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
_ISC_START = re.compile(r"^lease\s+(\S+)\s*\{", re.M)
_ISC_MAC = re.compile(r"hardware\s+ethernet\s+([0-9a-fA-F:]{17})\s*;")
_ISC_NAME = re.compile(r'client-hostname\s+"([^"]{1,64})"\s*;')


def read_leases(path: Path) -> list[Observation]:
    """Every usable lease in the file, whatever its format; unreadable lines are skipped."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    if "lease " in text and "{" in text:
        return _isc(text)
    if text.startswith("address,hwaddr"):
        return _kea(text)
    return _dnsmasq(text)


def _observation(mac: str, address: str, hostname: str | None) -> Observation | None:
    mac = mac.lower()
    try:
        address = str(ipaddress.ip_address(address))
    except ValueError:
        return None
    if not _MAC.match(mac):
        return None
    if hostname in ("", "*") or (hostname and not hostname.isprintable()):
        hostname = None
    return Observation(mac, address, Source.LEASES, hostname=hostname)


def _dnsmasq(text: str) -> list[Observation]:
    """`expiry mac address hostname client-id` per line."""
    found = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 4:
            seen = _observation(fields[1], fields[2], fields[3])
            if seen:
                found.append(seen)
    return found


def _isc_blocks(text: str) -> list[tuple[str, str]]:
    """(address, body) of each `lease ADDRESS { ... }`, with braces inside quotes ignored
    (dhcpd writes a client id's printable bytes as they are, `}` included)."""
    blocks = []
    for start in _ISC_START.finditer(text):
        pos, quoted = start.end(), False
        while pos < len(text):
            char = text[pos]
            if char == "\\" and quoted:
                pos += 2
                continue
            if char == '"':
                quoted = not quoted
            elif char == "}" and not quoted:
                blocks.append((start[1], text[start.end() : pos]))
                break
            pos += 1
    return blocks


def _isc(text: str) -> list[Observation]:
    latest: dict[str, Observation] = {}  # later blocks for the same address win
    for address, body in _isc_blocks(text):
        mac = _ISC_MAC.search(body)
        if mac:
            name = _ISC_NAME.search(body)
            seen = _observation(mac[1], address, name[1] if name else None)
            if seen:
                latest[seen.address or ""] = seen
    return list(latest.values())


def _kea(text: str) -> list[Observation]:
    found = []
    for row in csv.DictReader(io.StringIO(text)):
        seen = _observation(row.get("hwaddr") or "", row.get("address") or "", row.get("hostname"))
        if seen:
            found.append(seen)
    return found
