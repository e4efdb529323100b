"""Questions filterd answers itself, before the cache and upstreams see them.

- ANY gets the RFC 8482 minimal answer (HINFO "RFC8482"), never a full upstream answer that
  could serve amplification.
- Reverse lookups for private, loopback and link-local ranges get NXDOMAIN: they mean nothing
  to a public resolver and would leak the home's layout (dnsmasq's bogus-priv).
- Classes other than IN get REFUSED.
- Canaries that switch off encrypted DNS and relays which would bypass filtering, for every
  device: Firefox's DoH canary and iCloud Private Relay get NXDOMAIN, resolver discovery
  (DDR, RFC 9462) gets NODATA.
- The box's own names (filterd.policy.box_names) get the box's addresses, never forwarded.
"""

from __future__ import annotations

from collections.abc import Awaitable

from filterd.dns.answers import NO_RECORDS, build_answer
from filterd.dns.query import Query, Reason, Reply, Stage
from filterd.dns.wire import (
    NOERROR,
    NXDOMAIN,
    REFUSED,
    RR_FIXED,
    T_ANY,
    T_HINFO,
    is_subdomain,
    text_to_wire,
)
from filterd.policy.box_names import BoxNames

_HINFO_RDATA = b"\x07RFC8482\x00"
_RFC8482_BODY = b"\xc0\x0c" + RR_FIXED.pack(T_HINFO, 1, 3600, len(_HINFO_RDATA)) + _HINFO_RDATA

PRIVATE_REVERSE_ZONES = tuple(
    text_to_wire(zone)
    for zone in (
        "10.in-addr.arpa",
        *(f"{n}.172.in-addr.arpa" for n in range(16, 32)),
        "168.192.in-addr.arpa",
        "254.169.in-addr.arpa",
        "127.in-addr.arpa",
        "c.f.ip6.arpa",
        "d.f.ip6.arpa",
        "8.e.f.ip6.arpa",
        "9.e.f.ip6.arpa",
        "a.e.f.ip6.arpa",
        "b.e.f.ip6.arpa",
        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa",
    )
)
_ARPA = text_to_wire("arpa")
CANARIES = {
    text_to_wire("use-application-dns.net"): NXDOMAIN,
    text_to_wire("mask.icloud.com"): NXDOMAIN,
    text_to_wire("mask-h2.icloud.com"): NXDOMAIN,
    text_to_wire("_dns.resolver.arpa"): NOERROR,
}


class LocalAnswers:
    """Answers ANY, private reverse lookups, non-IN classes and the box's names locally;
    passes the rest down."""

    def __init__(self, below: Stage, box: BoxNames | None = None) -> None:
        self.below = below
        self.box = BoxNames((), ()) if box is None else box  # reconfigured on a reload

    def __call__(self, query: Query) -> Reply | Awaitable[Reply]:
        if query.qtype == T_ANY:
            wire = build_answer(query, 0, 0, (1, 0, 0), _RFC8482_BODY)
            return Reply(wire, 0, Reason.LOCAL, False)
        if query.qclass != 1:
            return Reply(
                build_answer(query, REFUSED, 0, NO_RECORDS, b""), REFUSED, Reason.LOCAL, False
            )
        qname = query.qname
        canary = CANARIES.get(qname)
        if canary is not None:
            wire = build_answer(query, canary, 0, NO_RECORDS, b"")
            return Reply(wire, canary, Reason.LOCAL, False)
        if qname.endswith(_ARPA) and any(is_subdomain(qname, z) for z in PRIVATE_REVERSE_ZONES):
            return Reply(
                build_answer(query, NXDOMAIN, 0, NO_RECORDS, b""), NXDOMAIN, Reason.LOCAL, False
            )
        box = self.box
        if qname in box.names:
            return box.answer(query)
        return self.below(query)
