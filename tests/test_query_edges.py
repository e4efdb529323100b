"""Smaller findings of issue 11 (item 10), over real sockets to a running filterd: error
answers are in the query log and repeat the question; RD=0 is never forwarded."""

from __future__ import annotations

import struct

from dnslib import DNSRecord

from tests.support.dns_client import assert_still_serving, make_query, udp_exchange
from tests.support.names import unique
from tests.support.query_log import outcomes

OPT = b"\x00" + struct.pack("!HHIH", 41, 1232, 0, 0)
OPT_VERSION_1 = b"\x00" + struct.pack("!HHIH", 41, 1232, 1 << 16, 0)


def question_bytes(name: str) -> bytes:
    return DNSRecord.question(name, "A").pack()[12:]


def packet(qid: int, flags: int, name: str, additional: bytes = b"", arcount: int = 0) -> bytes:
    header = struct.pack("!HHHHHH", qid, flags, 1, 0, 0, arcount)
    return header + question_bytes(name) + additional


def exchange(filterd, data: bytes) -> bytes:
    raw = udp_exchange(filterd.port, data)
    assert raw is not None
    return raw


def test_notimp_formerr_and_badvers_repeat_the_question_and_are_logged(filterd, upstream):
    status = unique("status-")  # opcode STATUS (2)
    notimp = exchange(filterd, packet(0x1111, 0x0100 | 2 << 11, status))
    assert notimp[3] & 0xF == 4, "NOTIMP"
    assert struct.unpack_from("!H", notimp, 4)[0] == 1, "the question is repeated"
    assert notimp[12:].startswith(question_bytes(status))

    two_opts = unique("twoopt-")
    formerr = exchange(filterd, packet(0x2222, 0x0100, two_opts, OPT + OPT, arcount=2))
    assert formerr[3] & 0xF == 1, "FORMERR"
    assert formerr[12:].startswith(question_bytes(two_opts))

    version = unique("edns1-")
    badvers = DNSRecord.parse(exchange(filterd, packet(0x3333, 0x0100, version, OPT_VERSION_1, 1)))
    assert badvers.header.rcode == 0 and str(badvers.q.qname).rstrip(".") == version
    assert badvers.ar[0].ttl >> 24 == 1, "extended rcode 16 (BADVERS) in the OPT record"

    assert outcomes(filterd.db_path, status) == [("malformed", "", "NOTIMP")]
    assert outcomes(filterd.db_path, two_opts) == [("malformed", "", "FORMERR")]
    assert outcomes(filterd.db_path, version) == [("malformed", "", "BADVERS")]
    assert not upstream.queries_for(status) and not upstream.queries_for(version)
    assert_still_serving(filterd.port)


def test_a_non_recursive_query_is_answered_from_the_cache_or_refused(filterd, upstream):
    name = unique("snoop-")
    query = make_query(name)
    query.header.rd = 0
    refused = DNSRecord.parse(exchange(filterd, query.pack()))
    assert refused.header.rcode == 5 and not refused.rr, "REFUSED, nothing forwarded"
    assert upstream.queries_for(name) == []
    assert outcomes(filterd.db_path, name) == [("not_recursive", "", "REFUSED")]
    exchange(filterd, make_query(name).pack())  # an ordinary query fills the cache
    cached = DNSRecord.parse(exchange(filterd, query.pack()))
    assert cached.header.rcode == 0 and len(cached.rr) == 1
    assert len(upstream.queries_for(name)) == 1
