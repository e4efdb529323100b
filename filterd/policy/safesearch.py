"""Safe search by CNAME rewrite: www.google.co.uk becomes forcesafesearch.google.com, and so on.

The engines honour their safe variants for every search made through those addresses, which is
the only way DNS can enforce safe search. A, AAAA and HTTPS questions for an engine's names are
answered with a CNAME to the safe name plus that name's own records, looked up through the
shared cache; the rewritten answer itself is never cached, because another child's profile may
not want it.

Which names each engine has and their safe variants (the rewrites a profile asks for) are
the rules' business: filterd.rules.safe_search_names, read into each child's state.
"""

from __future__ import annotations

from collections.abc import Awaitable

from filterd.dns.answers import build_answer
from filterd.dns.query import Query, Reason, Reply, Stage
from filterd.dns.records import decode_message, encode_sections
from filterd.dns.wire import HEADER, NOERROR, NXDOMAIN, RR_FIXED, T_A, T_AAAA, T_CNAME, T_HTTPS

REWRITTEN_TYPES = frozenset({T_A, T_AAAA, T_HTTPS})
CNAME_TTL = 300


class SafeSearchAnswers:
    """Builds the CNAME answer, resolving the safe name through the stages below (the cache)."""

    def __init__(self, below: Stage) -> None:
        self.below = below

    def __call__(self, query: Query, target: bytes) -> Reply | Awaitable[Reply]:
        tail = query.key[len(query.qname) :]  # type, class and the DO/CD bits
        lookup = query._replace(
            qname=target, question=target + query.question[-4:], key=target + tail
        )
        reply = self.below(lookup)
        if type(reply) is Reply:
            return _rewritten(query, target, reply)
        return self._later(query, target, reply)

    async def _later(self, query: Query, target: bytes, pending: Awaitable[Reply]) -> Reply:
        return _rewritten(query, target, await pending)


def _rewritten(query: Query, target: bytes, found: Reply) -> Reply:
    """The client's question answered by CNAME to the target plus the target's records."""
    if found.rcode not in (NOERROR, NXDOMAIN):
        wire = build_answer(query, found.rcode, 0, (0, 0, 0), b"")
        return Reply(wire, found.rcode, found.reason, found.cached, 0)
    message = decode_message(found.wire)
    cname = b"\xc0\x0c" + RR_FIXED.pack(T_CNAME, 1, CNAME_TTL, len(target)) + target
    encoded = encode_sections(query.qname, (message.answer, message.authority, []), _ttl)
    counts = (1 + encoded.counts[0], encoded.counts[1], 0)
    flags = HEADER.unpack_from(found.wire)[1]
    wire = build_answer(query, found.rcode, flags, counts, cname + encoded.body)
    return Reply(wire, found.rcode, Reason.SAFE_SEARCH, found.cached, 0)


def _ttl(record) -> int:
    return record.ttl
