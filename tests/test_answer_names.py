"""Names in forwarded answers keep their case and are all compressed (finding 10 of issue 11).

The outside check saw a CNAME chain answer of 160 bytes where Unbound sends 97: only the
question name was compressed. Unbound cannot run here; dnslib, which compresses every name it
packs, is the yardstick: filterd's answer must be no longer than dnslib's packing of it."""

from __future__ import annotations

from dnslib import CNAME, MX, NS, QTYPE, RR, SOA, A, DNSRecord

from tests.support.dns_client import make_query, udp_exchange
from tests.support.handler_upstream import HandlerUpstream
from tests.support.names import unique


def chain(query: DNSRecord) -> DNSRecord:
    reply = query.reply()
    qname = query.q.qname
    if query.q.qtype == QTYPE.MX:
        reply.add_answer(RR(qname, QTYPE.MX, ttl=300, rdata=MX("Mail.Example.NET", 10)))
        reply.add_auth(RR("Example.NET", QTYPE.NS, ttl=300, rdata=NS("NS1.Example.NET")))
        reply.add_ar(RR("Mail.Example.NET", QTYPE.A, ttl=300, rdata=A("192.0.2.25")))
        return reply
    if query.q.qtype == QTYPE.SOA:
        soa = SOA("NS1.Shop.Example.NET", "Hostmaster.Shop.Example.NET", (1, 2, 3, 4, 5))
        reply.add_answer(RR(qname, QTYPE.SOA, ttl=300, rdata=soa))
        return reply
    reply.add_answer(RR(qname, QTYPE.CNAME, ttl=300, rdata=CNAME("WWW.Shop.Example.NET")))
    reply.add_answer(
        RR("WWW.Shop.Example.NET", QTYPE.CNAME, ttl=300, rdata=CNAME("Edge.CDN.Example.NET"))
    )
    reply.add_answer(RR("Edge.CDN.Example.NET", QTYPE.A, ttl=300, rdata=A("192.0.2.80")))
    reply.add_answer(RR("Edge.CDN.Example.NET", QTYPE.A, ttl=300, rdata=A("192.0.2.81")))
    return reply


def ask_raw(port: int, name: str, qtype: str = "A") -> bytes:
    raw = udp_exchange(port, make_query(name, qtype).pack())
    assert raw is not None
    return raw


def test_a_cname_chain_keeps_its_case_and_every_name_is_compressed(start_filterd):
    with HandlerUpstream(chain) as own:
        filterd = start_filterd(upstreams=[own.addr])
        name = unique("Shop-")
        for attempt in ("fresh", "cached"):
            raw = ask_raw(filterd.port, name)
            reply = DNSRecord.parse(raw)
            owners = [str(rr.rname) for rr in reply.rr]
            targets = [str(rr.rdata) for rr in reply.rr]
            assert owners[1:] == [
                "WWW.Shop.Example.NET.",
                "Edge.CDN.Example.NET.",
                "Edge.CDN.Example.NET.",
            ], attempt
            assert targets[:2] == ["WWW.Shop.Example.NET.", "Edge.CDN.Example.NET."], attempt
            assert len(raw) <= len(reply.pack()), f"{attempt}: {len(raw)} bytes"
            assert len(raw) < 140, f"{attempt}: {len(raw)} bytes (was 160 before compression)"


def test_mx_ns_and_soa_names_are_compressed_and_keep_their_case(start_filterd):
    with HandlerUpstream(chain) as own:
        filterd = start_filterd(upstreams=[own.addr])
        name = unique("shop-", zone="Example.NET")
        raw = ask_raw(filterd.port, name, "MX")
        reply = DNSRecord.parse(raw)
        assert str(reply.rr[0].rdata.label) == "Mail.Example.NET."
        assert str(reply.auth[0].rdata) == "NS1.Example.NET."
        assert str(reply.ar[0].rname) == "Mail.Example.NET."
        assert len(raw) <= len(reply.pack())
        soa_raw = ask_raw(filterd.port, name, "SOA")
        soa = DNSRecord.parse(soa_raw)
        assert str(soa.rr[0].rdata.mname) == "NS1.Shop.Example.NET."
        assert len(soa_raw) <= len(soa.pack())
