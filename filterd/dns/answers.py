"""Assemble answers for a client from a question and encoded sections."""

from __future__ import annotations

from filterd.dns.query import Query
from filterd.dns.wire import AD, CD, EDNS_UDP_SIZE, HEADER, QR, RA, RD, Edns, opt_record

# The two OPT records every cached answer ends with, built once by the one OPT builder.
_OPT_PLAIN = opt_record(Edns(EDNS_UDP_SIZE, False, 0))
_OPT_DO = opt_record(Edns(EDNS_UDP_SIZE, True, 0))


def client_opt(query: Query) -> bytes:
    """Our OPT record for this client: none if it sent none, DO echoed if it did."""
    edns = query.edns
    if edns is None:
        return b""
    return _OPT_DO if edns.do else _OPT_PLAIN


def build_answer(
    query: Query, rcode: int, upstream_flags: int, counts: tuple[int, int, int], body: bytes
) -> bytes:
    """Header + the client's own question bytes + sections + OPT.

    QR and RA set, RD and CD copied; the AD bit is passed on only to clients that asked for
    DNSSEC data (RFC 6840 5.8). Written out flat: this runs for every cache hit.
    """
    flags = query.flags
    edns = query.edns
    reply = QR | RA | (flags & (RD | CD)) | (rcode & 0xF)
    if edns is None:
        if flags & AD:
            reply |= upstream_flags & AD
        header = HEADER.pack(query.qid, reply, 1, counts[0], counts[1], counts[2])
        return header + query.question + body
    if edns.do or flags & AD:
        reply |= upstream_flags & AD
    header = HEADER.pack(query.qid, reply, 1, counts[0], counts[1], counts[2] + 1)
    return header + query.question + body + (_OPT_DO if edns.do else _OPT_PLAIN)


NO_RECORDS = (0, 0, 0)
