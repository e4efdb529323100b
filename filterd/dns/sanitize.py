"""Clean an upstream answer before it is cached or forwarded.

Two checks, both client-agnostic so they sit below the cache:
- bailiwick: records that do not belong to the question's chain are stripped, so an answer for
  a.example cannot carry records for bank.example;
- rebinding: a public name resolving to a private, loopback or link-local address is answered
  empty, unless the name is on the allow list (local devices, Plex and the like).
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable

from filterd.dns.records import Message, Record
from filterd.dns.wire import (
    T_A,
    T_AAAA,
    T_CNAME,
    T_DNAME,
    T_HTTPS,
    T_MX,
    T_NS,
    T_SOA,
    T_SRV,
    T_SVCB,
    FormatError,
    is_subdomain,
    read_name,
)

_REBIND_NETS = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking networks, used inside some homes' equipment
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and 255.255.255.255 (broadcast)
        "::/128",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",  # site-local (deprecated, still routed inside some homes)
        "ff00::/8",  # multicast
    )
]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: an IPv4 address in the last 32 bits
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: local-use translation
_V4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d
_SIIT = ipaddress.ip_network("::ffff:0:0:0/96")  # RFC 2765 IPv4-translated ::ffff:0:a.b.c.d
_ISATAP_IDS = (0x00005EFE, 0x02005EFE)  # RFC 5214: interface id 0[2]00:5efe:a.b.c.d
T_RRSIG = 46
_DNSSEC_TYPES = {T_RRSIG, 47, 50}  # RRSIG, NSEC, NSEC3: proofs of denial and of wildcards


def chain_names(qname: bytes, answer: list[Record]) -> set[bytes]:
    """The question name plus every name a CNAME (or DNAME) in the answer leads to."""
    names = {qname}
    for _ in range(len(answer)):  # each pass can only add one link of the chain
        grew = False
        for record in answer:
            if record.rtype == T_CNAME and record.owner in names:
                target = record.rdata.lower()
                if target not in names:
                    names.add(target)
                    grew = True
        if not grew:
            break
    return names


def without_dnssec(message: Message, qtype: int) -> Message:
    """The message without RRSIG, NSEC and NSEC3 records, for a client that did not set DO:
    a resolver must not send them unless asked for that very type (RFC 4035 3.2.1), and a
    client that never asked for proofs may choke on them."""

    def wanted(record: Record) -> bool:
        return record.rtype not in _DNSSEC_TYPES or record.rtype == qtype

    if not any(not wanted(r) for r in (*message.answer, *message.authority, *message.additional)):
        return message
    return message._replace(
        answer=[r for r in message.answer if wanted(r)],
        authority=[r for r in message.authority if wanted(r)],
        additional=[r for r in message.additional if wanted(r)],
    )


def strip_out_of_bailiwick(qname: bytes, message: Message) -> tuple[Message, int]:
    """Keep only records that answer this question; return the message and how many went.

    DNSSEC data a validating (DO=1) client needs stays (RFC 4035 3.1): the RRSIG of every
    record kept in the answer (a DNAME's too), and the NSEC/NSEC3 records and their RRSIGs in
    the authority section that prove a wildcard answer, within a zone that signed the answer.
    """
    names = chain_names(qname, message.answer)

    def in_answer(record: Record) -> bool:
        if record.rtype == T_DNAME:
            return any(is_subdomain(name, record.owner) for name in names)
        return record.owner in names

    kept = {(r.owner, r.rtype) for r in message.answer if r.rtype != T_RRSIG and in_answer(r)}
    answer = [
        r
        for r in message.answer
        if ((r.owner, r.rtype) in kept)
        or (r.rtype == T_RRSIG and (r.owner, _covered(r.rdata)) in kept)
    ]
    zones = {
        r.owner
        for r in message.authority
        if r.rtype in (T_SOA, T_NS) and any(is_subdomain(n, r.owner) for n in names)
    }
    signers = {
        signer
        for r in answer
        if r.rtype == T_RRSIG
        and (signer := _signer(r.rdata)) is not None
        and is_subdomain(r.owner, signer)
    }

    def in_authority(record: Record) -> bool:
        if record.rtype in _DNSSEC_TYPES:
            return any(is_subdomain(record.owner, zone) for zone in zones | signers)
        return record.owner in zones

    authority = [r for r in message.authority if in_authority(r)]
    targets = _named_targets(answer + authority)
    bailiwick = zones or {_parent(qname)}
    additional = [
        r
        for r in message.additional
        if r.owner in targets and any(is_subdomain(r.owner, z) for z in bailiwick)
    ]
    removed = (
        len(message.answer)
        + len(message.authority)
        + len(message.additional)
        - len(answer)
        - len(authority)
        - len(additional)
    )
    return message._replace(answer=answer, authority=authority, additional=additional), removed


def _covered(rdata: bytes) -> int:
    """The type an RRSIG covers (its first two bytes)."""
    return rdata[0] << 8 | rdata[1] if len(rdata) >= 2 else -1


def _signer(rdata: bytes) -> bytes | None:
    """An RRSIG's signer name (the zone that signed), lower case; None when unreadable."""
    try:
        name, _ = read_name(rdata, 18)
    except FormatError:
        return None
    return name.lower()


def _named_targets(records: Iterable[Record]) -> set[bytes]:
    """Names that additional records may legitimately describe (NS, MX and SRV targets)."""
    targets: set[bytes] = set()
    for record in records:
        if record.rtype == T_NS:
            targets.add(record.rdata.lower())
        elif record.rtype == T_MX:
            targets.add(record.rdata[2:].lower())
        elif record.rtype == T_SRV:
            targets.add(record.rdata[6:].lower())
    return targets


def _parent(name: bytes) -> bytes:
    if name == b"\x00":
        return name
    return name[name[0] + 1 :] or b"\x00"


def is_rebinding_address(packed: bytes) -> bool:
    """True for addresses a public name must never point at from inside the home, including an
    inside IPv4 address carried in an IPv6 one (mapped, NAT64, SIIT, 6to4, Teredo, ISATAP,
    v4-compatible), which reaches the same device through a translator or tunnel."""
    address = ipaddress.ip_address(packed)
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64_LOCAL:
            return True
        inside = _embedded_ipv4(address)
        if inside is not None and _inside(inside):
            return True
    return _inside(address)


def _inside(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return any(address in net for net in _REBIND_NETS if net.version == address.version)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # the client behind the Teredo relay
    if address in _NAT64 or address in _SIIT or (address in _V4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if (int(address) >> 32) & 0xFDFFFFFF == _ISATAP_IDS[0]:  # u/l bit either way, any prefix
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def record_addresses(record: Record) -> list[bytes]:
    """Packed addresses a record would send a client to (A, AAAA, and SVCB/HTTPS hints)."""
    if record.rtype == T_A and len(record.rdata) == 4:
        return [record.rdata]
    if record.rtype == T_AAAA and len(record.rdata) == 16:
        return [record.rdata]
    if record.rtype in (T_SVCB, T_HTTPS):
        return _svcb_hints(record.rdata)
    return []


def _svcb_hints(rdata: bytes) -> list[bytes]:
    """ipv4hint (key 4) and ipv6hint (key 6) addresses of SVCB/HTTPS RDATA (RFC 9460)."""
    try:
        _, pos = read_name(rdata, 2)
    except Exception:
        return []
    hints: list[bytes] = []
    while pos + 4 <= len(rdata):
        key, length = struct.unpack_from("!HH", rdata, pos)
        value = rdata[pos + 4 : pos + 4 + length]
        pos += 4 + length
        size = 4 if key == 4 else 16 if key == 6 else 0
        if size:
            hints.extend(value[i : i + size] for i in range(0, len(value) - size + 1, size))
    return hints


def rebinds(message: Message, qname: bytes, allowed: tuple[bytes, ...]) -> bool:
    """True when the answer for a name that is not allowed points at an inside address.

    Only the asked name can be allowed: a CNAME from a public name into an allowed zone
    (plex.direct is a public wildcard) must not carry an inside address through.
    """
    if any(is_subdomain(qname, zone) for zone in allowed):
        return False
    return any(
        is_rebinding_address(address)
        for record in message.answer + message.additional
        for address in record_addresses(record)
    )
