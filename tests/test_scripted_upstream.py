"""Fast checks of the scripted upstream server, through plain loopback sockets."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from ipaddress import IPv6Address

import pytest
from dnslib import EDNS0, QTYPE, RCODE, DNSError, DNSRecord

from tests.support.scripted_upstream import default_a
from tests.support.upstream_process import ScriptedUpstream


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScriptedUpstream]:
    log = tmp_path_factory.mktemp("upstream") / "queries.jsonl"
    with ScriptedUpstream(log_path=log) as up:
        yield up


def query(name: str, qtype: str = "A", edns: int | None = None, do: bool = False) -> DNSRecord:
    q = DNSRecord.question(name, qtype)
    if edns is not None:
        q.add_ar(EDNS0(udp_len=edns, flags="do" if do else ""))
    return q


def udp_exchange(
    up: ScriptedUpstream, q: DNSRecord, count: int = 1, timeout: float = 1.0
) -> list[tuple[bytes, int]]:
    """Send over UDP; return up to ``count`` (datagram, source port) pairs."""
    got: list[tuple[bytes, int]] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(q.pack(), (up.host, up.port))
        try:
            while len(got) < count:
                data, src = s.recvfrom(65535)
                got.append((data, src[1]))
        except TimeoutError:
            pass
    return got


def udp_ask(up: ScriptedUpstream, q: DNSRecord) -> DNSRecord:
    [(data, _)] = udp_exchange(up, q)
    return DNSRecord.parse(data)


def recv_exact(s: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            break
        buf += chunk
    return buf


def tcp_ask(up: ScriptedUpstream, *qs: DNSRecord) -> list[DNSRecord]:
    """Send all queries on one TCP connection and read one answer per query."""
    with socket.create_connection((up.host, up.port), timeout=2) as s:
        for q in qs:
            data = q.pack()
            s.sendall(struct.pack("!H", len(data)) + data)
        answers = []
        for _ in qs:
            (length,) = struct.unpack("!H", recv_exact(s, 2))
            answers.append(DNSRecord.parse(recv_exact(s, length)))
    return answers


def test_default_answer_echoes_question(upstream: ScriptedUpstream) -> None:
    q = query("Some-Host.Example")
    q.header.rd = 1
    r = udp_ask(upstream, q)
    assert r.header.id == q.header.id
    assert (r.header.qr, r.header.ra, r.header.rd, r.header.rcode) == (1, 1, 1, RCODE.NOERROR)
    assert str(r.q.qname) == "Some-Host.Example."
    [rr] = r.rr
    assert rr.rtype == QTYPE.A and rr.ttl == 300
    assert str(rr.rdata) == default_a("some-host.example")
    assert str(rr.rdata).startswith("198.51.100.")
    assert not r.ar  # no EDNS in, no OPT out


def test_default_other_types(upstream: ScriptedUpstream) -> None:
    [rr] = udp_ask(upstream, query("h.example", "AAAA")).rr
    assert rr.rtype == QTYPE.AAAA and str(rr.rdata).startswith("2001:db8::")
    r = udp_ask(upstream, query("h.example", "MX"))
    assert r.header.rcode == RCODE.NOERROR and not r.rr
    assert r.auth[0].rtype == QTYPE.SOA and str(r.auth[0].rname) == "example."


def test_nx_and_edns(upstream: ScriptedUpstream) -> None:
    r = udp_ask(upstream, query("NX-abc.example", edns=4096, do=True))
    assert r.header.rcode == RCODE.NXDOMAIN and not r.rr
    [soa] = r.auth
    assert soa.rtype == QTYPE.SOA and soa.ttl == 3600 and soa.rdata.times[-1] == 60
    [opt] = r.ar
    assert opt.rtype == QTYPE.OPT and opt.rclass == 1232 and opt.ttl & 0x8000


def test_rcodes_ttl_cname_rebind(upstream: ScriptedUpstream) -> None:
    assert udp_ask(upstream, query("servfail-x.test")).header.rcode == RCODE.SERVFAIL
    assert udp_ask(upstream, query("refused-x.test")).header.rcode == RCODE.REFUSED
    assert udp_ask(upstream, query("ttl5-x.test")).rr[0].ttl == 5
    cname, a = udp_ask(upstream, query("cname-x.test")).rr
    assert str(cname.rdata) == "target.test." and str(a.rname) == "target.test."
    [hint] = udp_ask(upstream, query("rebind-hint-x.test", "A")).rr
    assert hint.rtype == QTYPE.HTTPS and "ipv4hint=10.0.0.1" in str(hint.rdata)
    [v6] = udp_ask(upstream, query("rebind-mapped-x.test")).rr
    assert v6.rtype == QTYPE.AAAA and IPv6Address(str(v6.rdata)) == IPv6Address("::ffff:10.0.0.1")


def test_tc_over_udp_full_over_tcp(upstream: ScriptedUpstream) -> None:
    r = udp_ask(upstream, query("tc-x.test"))
    assert r.header.tc == 1 and not r.rr and str(r.q.qname) == "tc-x.test."
    [r] = tcp_ask(upstream, query("tc-x.test"))
    assert r.header.tc == 0 and len(r.rr) == 3


def test_big_truncates_by_size(upstream: ScriptedUpstream) -> None:
    r = udp_ask(upstream, query("big-x.test", edns=1232))
    assert r.header.tc == 1 and not r.rr and r.ar[0].rtype == QTYPE.OPT
    big, small = tcp_ask(upstream, query("big-x.test"), query("plain.test"))
    assert len(big.rr) == 100 and len(small.rr) == 1


def test_silent_never_answers(upstream: ScriptedUpstream) -> None:
    assert udp_exchange(upstream, query("silent-x.test"), timeout=0.3) == []


def test_forged_id_comes_first(upstream: ScriptedUpstream) -> None:
    q = query("forged-id-x.test")
    (fake, _), (real, _) = udp_exchange(upstream, q, count=2)
    fake_r, real_r = DNSRecord.parse(fake), DNSRecord.parse(real)
    assert fake_r.header.id == (q.header.id + 1) & 0xFFFF and str(fake_r.rr[0].rdata) == "6.6.6.6"
    assert real_r.header.id == q.header.id and str(real_r.rr[0].rdata).startswith("198.51.100.")


def test_forged_port_uses_other_socket(upstream: ScriptedUpstream) -> None:
    (fake, fake_port), (_, real_port) = udp_exchange(upstream, query("forged-port-x.test"), 2)
    assert fake_port != upstream.port and real_port == upstream.port
    assert str(DNSRecord.parse(fake).rr[0].rdata) == "6.6.6.6"


def test_forged_case(upstream: ScriptedUpstream) -> None:
    (fake, _), (real, _) = udp_exchange(upstream, query("Forged-Case-x.test"), 2)
    assert str(DNSRecord.parse(fake).q.qname) == "fORGED-cASE-X.TEST."
    assert str(DNSRecord.parse(real).q.qname) == "Forged-Case-x.test."


def test_malformed_reply(upstream: ScriptedUpstream) -> None:
    [(data, _)] = udp_exchange(upstream, query("malformed-x.test"))
    assert data[2] & 0x80  # QR=1
    with pytest.raises(DNSError):
        DNSRecord.parse(data)


def test_tcpclose_sends_half(upstream: ScriptedUpstream) -> None:
    data = query("tcpclose-x.test").pack()
    with socket.create_connection((upstream.host, upstream.port), timeout=2) as s:
        s.sendall(struct.pack("!H", len(data)) + data)
        (length,) = struct.unpack("!H", recv_exact(s, 2))
        assert 0 < len(recv_exact(s, length)) < length


def test_garbage_query_ignored_and_log(upstream: ScriptedUpstream) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"\x01\x02garbage", (upstream.host, upstream.port))
    upstream.clear_log()
    udp_ask(upstream, query("Log-Me.Example", "AAAA", edns=1400, do=True))
    tcp_ask(upstream, query("log-tcp.example", "TXT"))
    udp_ask(upstream, query("log-plain.example"))
    first, second, third = upstream.queries()
    assert first["name"] == "Log-Me.Example" and first["qtype"] == "AAAA"
    assert (first["transport"], first["edns_size"], first["do"]) == ("udp", 1400, True)
    assert (second["transport"], second["qtype"]) == ("tcp", "TXT")
    assert (third["edns_size"], third["do"]) == (None, False) and isinstance(third["id"], int)


def test_restart_keeps_port(tmp_path) -> None:
    with ScriptedUpstream(log_path=tmp_path / "log.jsonl") as up:
        port = up.port
        up.stop()
        assert udp_exchange(up, query("x.test"), timeout=0.2) == []
        up.start()
        assert up.port == port and up.addr == f"127.0.0.1:{port}"
        assert udp_ask(up, query("x.test")).rr
