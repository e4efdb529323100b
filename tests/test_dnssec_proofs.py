"""DNSSEC data a validating client needs survives cleaning and caching (finding 6 of issue
11): a wildcard answer keeps its NSEC proof and its RRSIGs, a DNAME keeps its RRSIG (RFC 4035
3.1). The upstream hands out signed-looking answers; filterd does not validate, it must only
pass on what a validating client checks."""

from __future__ import annotations

from dnslib import CNAME, DNAME, NSEC, QTYPE, RR, RRSIG, A, DNSRecord

from tests.support.dns_client import ask
from tests.support.handler_upstream import HandlerUpstream

SIGNATURE = b"\x01" * 64


def rrsig(owner: str, covered: int, labels: int, signer: str) -> RR:
    data = RRSIG(covered, 13, labels, 300, 2000000000, 1700000000, 12345, signer, SIGNATURE)
    return RR(owner, QTYPE.RRSIG, ttl=300, rdata=data)


def signed(query: DNSRecord) -> DNSRecord:
    reply = query.reply()
    qname = str(query.q.qname)
    if qname.endswith("wild.example."):
        reply.add_answer(RR(qname, QTYPE.A, ttl=300, rdata=A("192.0.2.9")))
        reply.add_answer(rrsig(qname, QTYPE.A, 2, "wild.example."))  # labels 2: from *.wild
        nsec = NSEC("z.wild.example.", ["A", "RRSIG", "NSEC"])
        reply.add_auth(RR("a.wild.example.", QTYPE.NSEC, ttl=300, rdata=nsec))
        reply.add_auth(rrsig("a.wild.example.", QTYPE.NSEC, 3, "wild.example."))
    else:  # www.old.example: a DNAME to new.example
        reply.add_answer(RR("old.example.", QTYPE.DNAME, ttl=300, rdata=DNAME("new.example.")))
        reply.add_answer(rrsig("old.example.", QTYPE.DNAME, 2, "example."))
        reply.add_answer(RR(qname, QTYPE.CNAME, ttl=300, rdata=CNAME("www.new.example.")))
        reply.add_answer(RR("www.new.example.", QTYPE.A, ttl=300, rdata=A("192.0.2.10")))
        reply.add_answer(rrsig("www.new.example.", QTYPE.A, 3, "example."))
    return reply


def types(records) -> list[tuple[str, str]]:
    return [(str(rr.rname), QTYPE[rr.rtype]) for rr in records]


def test_a_wildcard_answer_keeps_its_nsec_proof_and_signatures(start_filterd):
    with HandlerUpstream(signed) as own:
        filterd = start_filterd(upstreams=[own.addr])
        for attempt in ("fresh", "cached"):
            reply = ask(filterd.port, "host1.wild.example", do=True)
            assert types(reply.rr) == [
                ("host1.wild.example.", "A"),
                ("host1.wild.example.", "RRSIG"),
            ], attempt
            assert types(reply.auth) == [
                ("a.wild.example.", "NSEC"),
                ("a.wild.example.", "RRSIG"),
            ], attempt


def test_a_dname_keeps_its_signature(start_filterd):
    with HandlerUpstream(signed) as own:
        filterd = start_filterd(upstreams=[own.addr])
        for attempt in ("fresh", "cached"):
            reply = ask(filterd.port, "www.old.example", do=True)
            assert types(reply.rr) == [
                ("old.example.", "DNAME"),
                ("old.example.", "RRSIG"),
                ("www.old.example.", "CNAME"),
                ("www.new.example.", "A"),
                ("www.new.example.", "RRSIG"),
            ], attempt
            assert reply.rr[1].rdata.covered == QTYPE.DNAME


def test_a_client_without_do_gets_no_dnssec_records_an_upstream_sent_anyway(start_filterd):
    """Some upstreams send RRSIG and NSEC whether DO was set or not: filterd passes them only
    to a client that set DO, or that asked for that very type (RFC 4035 3.2.1, as Unbound)."""
    with HandlerUpstream(signed) as own:
        filterd = start_filterd(upstreams=[own.addr])
        for attempt in ("fresh", "cached"):
            plain = ask(filterd.port, "host2.wild.example")
            assert types(plain.rr) == [("host2.wild.example.", "A")], attempt
            assert types(plain.auth) == [], attempt
        proofs = ask(filterd.port, "host2.wild.example", do=True)  # the same name, with DO
        assert ("host2.wild.example.", "RRSIG") in types(proofs.rr)
        asked_for = ask(filterd.port, "host3.wild.example", "RRSIG")
        assert ("host3.wild.example.", "RRSIG") in types(asked_for.rr)
