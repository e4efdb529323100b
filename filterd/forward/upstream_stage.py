"""Ask the upstreams, clean the answer, and decide how long it may be cached.

Sits at the bottom of the chain, below the cache, so everything here is client-agnostic and
done once per cache miss: bailiwick stripping, rebinding protection, RFC 2308 negative TTLs.
"""

from __future__ import annotations

from typing import NamedTuple

from filterd.dns.query import Query, Reason
from filterd.dns.records import Encoded, Message, Record, encode_sections, soa_negative_ttl
from filterd.dns.sanitize import rebinds, strip_out_of_bailiwick, without_dnssec
from filterd.dns.wire import NOERROR, NXDOMAIN, SERVFAIL, T_SOA
from filterd.forward.metrics import ForwardCounters
from filterd.forward.settings import CacheLimits
from filterd.forward.upstream import UpstreamClient

MAX_SERVFAIL_TTL = 5


class Outcome(NamedTuple):
    """A cleaned upstream answer, shared by every client that asked the same question."""

    rcode: int
    flags: int
    encoded: Encoded
    ttl: int  # seconds it may be cached; 0 = not at all
    reason: Reason


class RebindingPolicy(NamedTuple):
    protect: bool
    allowed: tuple[bytes, ...]  # wire names whose subtrees may resolve inside the home


class UpstreamStage:
    """Turns a question into an Outcome, or None when no upstream gave a usable answer."""

    def __init__(
        self,
        client: UpstreamClient,
        limits: CacheLimits,
        rebinding: RebindingPolicy,
        counters: ForwardCounters,
    ) -> None:
        self.client = client
        self.limits = limits
        self.rebinding = rebinding
        self.counters = counters

    async def __call__(self, query: Query) -> Outcome | None:
        do = query.edns is not None and query.edns.do
        message = await self.client.resolve(
            query.qname, query.qtype, query.qclass, do, bool(query.flags & 0x0010)
        )
        if message is None:
            return None
        if not do:  # an upstream that sends DNSSEC records anyway (RFC 4035 3.2.1)
            message = without_dnssec(message, query.qtype)
        return self.clean(query.qname, message)

    def clean(self, qname: bytes, message: Message) -> Outcome:
        message, removed = strip_out_of_bailiwick(qname, message)
        self.counters.bailiwick_stripped += removed
        rcode = message.flags & 0xF
        policy = self.rebinding
        if policy.protect and rebinds(message, qname, policy.allowed):
            empty = encode_sections(qname, ([], [], []), lambda r: 0)
            return Outcome(NOERROR, message.flags, empty, 0, Reason.REBINDING)
        ttl, ttl_of = self._ttl_policy(rcode, message)
        encoded = encode_sections(
            qname, (message.answer, message.authority, message.additional), ttl_of
        )
        return Outcome(rcode, message.flags, encoded, ttl, Reason.FORWARDED)

    def _ttl_policy(self, rcode: int, message: Message):
        """(cache lifetime, per-record TTL function) for this answer."""
        limits = self.limits

        def clamp(ttl: int) -> int:
            return min(max(ttl, limits.min_ttl), limits.max_ttl)

        def per_record(record: Record) -> int:
            return clamp(record.ttl)

        if rcode == SERVFAIL:
            return min(limits.servfail_ttl, MAX_SERVFAIL_TTL), per_record
        soa = next((r for r in message.authority if r.rtype == T_SOA), None)
        if rcode == NOERROR and message.answer:
            ttl = min(clamp(r.ttl) for r in message.answer)
            if soa is not None:  # a CNAME chain ending in NODATA lives as a negative answer
                ttl = min(ttl, clamp(soa_negative_ttl(soa)), limits.negative_max_ttl)
            return ttl, per_record
        if rcode in (NOERROR, NXDOMAIN):
            if soa is None:  # RFC 2308 section 5: no SOA, no negative caching
                return 0, per_record
            negative = min(clamp(soa_negative_ttl(soa)), limits.negative_max_ttl)

            def negative_ttl(record: Record) -> int:
                return negative if record.rtype == T_SOA else clamp(record.ttl)

            return negative, negative_ttl
        return 0, per_record
