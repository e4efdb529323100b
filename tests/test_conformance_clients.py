"""Hostile, broken and unusual client queries (dns-conformance.md, "Queries from clients" 1-15).

Every test sends real bytes over a real loopback socket to a running filterd and checks what a
user or operator would notice: the answer code, the TC bit, sizes, no answer at all, a closed
connection. Each ends by checking that an ordinary query is still answered.
"""

from __future__ import annotations

import itertools
import socket
import struct
import time
from collections.abc import Callable, Iterator

import pytest
from dnslib import QTYPE, DNSRecord

from tests.support.dns_client import (
    addresses,
    ask,
    assert_still_serving,
    exchange,
    make_query,
    rcode,
    read_tcp_message,
    tcp_exchange,
    udp_exchange,
)
from tests.support.filterd_process import FilterdProcess
from tests.support.names import unique
from tests.support.query_log import logged
from tests.support.upstream_process import ScriptedUpstream

RD = 0x0100
QR = 0x8000
NOERROR, FORMERR, NOTIMP, REFUSED = 0, 1, 4, 5
T_A, T_NULL, T_OPT, T_ANY = 1, 10, 41, 255
SECOND = 1.0  # "well within a second" for work that should take microseconds

_ids = itertools.count(0x2000)


# --- building packets by hand ---------------------------------------------------------------


def header(
    qid: int = 0x1234, flags: int = RD, qd: int = 1, an: int = 0, ns: int = 0, ar: int = 0
) -> bytes:
    return struct.pack("!6H", qid, flags, qd, an, ns, ar)


def name(*labels: bytes) -> bytes:
    """Wire form of a name from raw label bytes (no checks: tests build bad names on purpose)."""
    return b"".join(bytes([len(label)]) + label for label in labels) + b"\x00"


def text_name(text: str) -> bytes:
    return name(*(label.encode() for label in text.split(".")))


def record(
    owner: bytes, rtype: int = T_A, rclass: int = 1, ttl: int = 0, rdata: bytes = b""
) -> bytes:
    return owner + struct.pack("!HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def opt(size: int = 1232, version: int = 0, owner: bytes = b"\x00") -> bytes:
    return record(owner, T_OPT, size, version << 16)


QUESTION = text_name("formerr-probe.example.com") + struct.pack("!HH", T_A, 1)
Q_END = 12 + len(QUESTION)  # offset of the first record after QUESTION


# --- talking to filterd ---------------------------------------------------------------------


def reply_fields(reply: bytes) -> tuple[int, int, int]:
    """(id, flags, rcode) of a raw reply."""
    qid, flags = struct.unpack_from("!HH", reply)
    return qid, flags, flags & 0xF


def assert_error_reply(reply: bytes | None, want_rcode: int, qid: int = 0x1234) -> None:
    """An error answer: our ID, QR=1, the rcode, and a message any resolver can parse."""
    assert reply is not None, "no answer at all"
    got_id, flags, got_rcode = reply_fields(reply)
    assert got_id == qid
    assert flags & QR
    assert got_rcode == want_rcode, f"rcode {got_rcode}, wanted {want_rcode}"
    DNSRecord.parse(reply)


def assert_no_reply(port: int, data: bytes, tcp: bool) -> None:
    """`data` gets no answer: filterd answers an ordinary query sent right after it, and only that.

    filterd handles a socket's messages in order, so an answer to `data` would come first; the
    short wait afterwards catches an answer that went the long way (via the upstream).
    """
    sentinel = DNSRecord.question(unique("sentinel-"))
    if tcp:
        with socket.create_connection(("127.0.0.1", port), timeout=3) as sock:
            sock.sendall(struct.pack("!H", len(data)) + data)
            wire = sentinel.pack()
            sock.sendall(struct.pack("!H", len(wire)) + wire)
            first = read_tcp_message(sock)
            sock.settimeout(0.6)
            extra = read_tcp_message(sock)
    else:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(3)
            sock.sendto(data, ("127.0.0.1", port))
            sock.sendto(sentinel.pack(), ("127.0.0.1", port))
            first = sock.recv(65535)
            sock.settimeout(0.6)
            try:
                extra = sock.recv(65535)
            except TimeoutError:
                extra = None
    assert first is not None, "the ordinary query after it was not answered"
    assert DNSRecord.parse(first).header.id == sentinel.header.id, "the packet got an answer"
    assert extra is None, "an unexpected extra answer came"


@pytest.fixture
def server(shared: FilterdProcess) -> Iterator[FilterdProcess]:
    """The shared filterd; after the test it must still serve and have logged no traceback."""
    mark = len(shared.log())
    yield shared
    assert_still_serving(shared.port)
    assert shared.proc is not None and shared.proc.poll() is None, "filterd exited"
    assert "Traceback" not in shared.log()[mark:]


def malformed_count(process: FilterdProcess) -> float:
    return process.metric("filterd_malformed_queries_total")


def assert_fast_counted_formerr(process: FilterdProcess, packet: bytes, tcp: bool) -> None:
    """`packet` gets FORMERR well within a second and adds one to the malformed-query count."""
    before = malformed_count(process)
    started = time.monotonic()
    reply = exchange(process.port, packet, tcp)
    assert time.monotonic() - started < SECOND
    assert_error_reply(reply, FORMERR)
    assert malformed_count(process) == before + 1


TRANSPORTS = [pytest.param(False, id="udp"), pytest.param(True, id="tcp")]


# --- 1, 2, 4, 5, 6: malformed questions and names get FORMERR --------------------------------

A_IN = struct.pack("!HH", T_A, 1)
LONG_NAME = name(*[b"a" * 63] * 4)  # 4 * 64 + 1 = 257 octets
ADD = header(ar=1) + QUESTION  # a valid query with one additional record to follow

FORMERR_CASES = {
    # 1. pointer to itself, in the question and in an additional record's owner
    "self-pointer-question": header() + b"\xc0\x0c" + A_IN,
    "self-pointer-additional": ADD + record(struct.pack("!H", 0xC000 | Q_END)),
    # 2. forward pointers (to a valid name further on) and pointers past the end
    "forward-pointer-question": header() + b"\xc0\x12" + A_IN + text_name("example.com"),
    "forward-pointer-additional": ADD
    + record(struct.pack("!H", 0xC000 | (Q_END + 12)), T_NULL, rdata=text_name("example.com")),
    "pointer-past-end-question": header() + b"\xc0\xff" + A_IN,
    "pointer-past-end-additional": ADD + record(b"\xff\xff"),
    "pointer-cut-in-half-additional": ADD + b"\xc0",
    # 4. reserved label types, over-long labels and names
    "label-type-0x40-question": header() + b"\x40" + b"a" * 64 + b"\x00" + A_IN,
    "label-type-0x80-question": header() + b"\x80" + b"a" * 10 + b"\x00" + A_IN,
    "label-type-0xbf-question": header() + b"\xbf\x00" + A_IN,
    "label-over-63-question": header() + b"\x7f" + b"a" * 127 + b"\x00" + A_IN,
    "name-over-255-question": header() + LONG_NAME + A_IN,
    "label-type-0x40-additional": ADD + record(b"\x40" + b"a" * 64 + b"\x00"),
    "label-type-0x80-additional": ADD + record(b"\x80\x00"),
    "name-over-255-additional": ADD + record(LONG_NAME),
    # 5. header present but the question is cut short
    "header-only": header(),
    "name-cut-short": header() + b"\x07exam",
    "name-without-end": header() + b"\x07example\x03com",
    "no-qtype-qclass": header() + text_name("example.com"),
    "no-qclass": header() + text_name("example.com") + b"\x00\x01",
    "half-a-qclass": header() + text_name("example.com") + b"\x00\x01\x00",
    # 6. anything but exactly one question
    "qdcount-0": header(qd=0),
    "qdcount-0-with-question": header(qd=0) + QUESTION,
    "qdcount-2": header(qd=2) + QUESTION + QUESTION,
    "qdcount-2-only-one-present": header(qd=2) + QUESTION,
    # 12. malformed EDNS
    "two-opt-records": header(ar=2) + QUESTION + opt() + opt(),
    "opt-owner-not-root": ADD + opt(owner=text_name("example.com")),
    "opt-fixed-part-truncated": ADD + opt()[:6],
    "opt-rdata-truncated": ADD + b"\x00" + struct.pack("!HHIH", T_OPT, 1232, 0, 20) + b"\x00\x0a",
}


@pytest.mark.parametrize("tcp", TRANSPORTS)
@pytest.mark.parametrize("packet", FORMERR_CASES.values(), ids=FORMERR_CASES.keys())
def test_malformed_query_gets_formerr(server: FilterdProcess, packet: bytes, tcp: bool) -> None:
    """Items 1, 2, 4, 5, 6, 12: a broken query gets FORMERR (never resolved) and is counted."""
    assert_fast_counted_formerr(server, packet, tcp)


def test_self_pointer_is_counted_by_problem(server: FilterdProcess) -> None:
    """Item 1: an operator can see pointer attacks in the malformed-query metric."""
    assert_error_reply(udp_exchange(server.port, FORMERR_CASES["self-pointer-question"]), FORMERR)
    problems = [
        line
        for line in server.metrics().splitlines()
        if line.startswith("filterd_malformed_queries_total{") and "pointer" in line
    ]
    assert problems, "no malformed-query sample names the pointer problem"


def test_longest_legal_name_is_answered(server: FilterdProcess) -> None:
    """Item 4 boundary: a name of exactly 255 octets is legal and resolved, not FORMERR."""
    labels = [b"a" * 63, b"b" * 63, b"c" * 63, b"d" * 61]  # 4 + 63*3 + 61 + 1 = 255 octets
    qname = name(*labels)
    assert len(qname) == 255
    reply = udp_exchange(server.port, header() + qname + A_IN)
    assert reply is not None
    assert reply_fields(reply)[2] == NOERROR
    assert addresses(DNSRecord.parse(reply))


# --- 3. long pointer chains -------------------------------------------------------------------

CHAIN_LINKS = 1300
DATAGRAM = 8 * 1024


def pointer_chain(start: int, links: int) -> tuple[bytes, int]:
    """A root label at `start`, then `links` pointers each to the one before; (bytes, last)."""
    chain = bytearray(b"\x00")
    for i in range(links):
        target = start if i == 0 else start + 1 + 2 * (i - 1)
        chain += struct.pack("!H", 0xC000 | target)
    return bytes(chain), start + 1 + 2 * (links - 1)


def chain_in_additional() -> bytes:
    """Valid question; a NULL record whose data holds the chain; a record named by its end."""
    rdata_at = Q_END + 11  # after the NULL record's root owner (1) and fixed fields (10)
    padding = DATAGRAM - rdata_at - (1 + 2 * CHAIN_LINKS) - 12  # 12: the last record
    chain, last = pointer_chain(rdata_at + padding, CHAIN_LINKS)
    first = record(b"\x00", T_NULL, rdata=b"\x00" * padding + chain)
    return header(ar=2) + QUESTION + first + record(struct.pack("!H", 0xC000 | last))


def chain_in_question() -> bytes:
    """The question name is a pointer to the end of a chain that follows the question."""
    chain, last = pointer_chain(18, CHAIN_LINKS)
    packet = header() + struct.pack("!H", 0xC000 | last) + A_IN + chain
    return packet + b"\x00" * (DATAGRAM - len(packet))


@pytest.mark.parametrize("tcp", TRANSPORTS)
@pytest.mark.parametrize("build", [chain_in_additional, chain_in_question])
def test_pointer_chain_gets_fast_formerr(
    server: FilterdProcess, build: Callable[[], bytes], tcp: bool
) -> None:
    """Item 3: ~1,300 chained pointers in an 8 KiB message: fast FORMERR, no RecursionError."""
    packet = build()
    assert len(packet) == DATAGRAM
    assert_fast_counted_formerr(server, packet, tcp)
    assert "RecursionError" not in server.log()


# --- 5, 7. packets that get no answer at all ------------------------------------------------


def response_packet() -> bytes:
    """A complete, well-formed response (QR=1) such as a reflection attack would bounce."""
    query = DNSRecord.question(unique("reflect-"))
    return query.replyZone(f"{query.q.qname} 60 A 192.0.2.1").pack()


NO_REPLY_CASES = {
    "empty": b"",
    "one-byte": b"\x12",
    "eleven-bytes": header()[:11],
    "query-with-qr-set": header(flags=QR | RD) + QUESTION,
    "full-response": response_packet(),
}


@pytest.mark.parametrize("tcp", TRANSPORTS)
@pytest.mark.parametrize("packet", NO_REPLY_CASES.values(), ids=NO_REPLY_CASES.keys())
def test_short_packets_and_responses_get_no_answer(
    server: FilterdProcess, packet: bytes, tcp: bool
) -> None:
    """Items 5, 7: under 12 bytes, or QR=1: silently dropped (no reflection loops)."""
    assert_no_reply(server.port, packet, tcp)


def test_response_is_not_forwarded(server: FilterdProcess, upstream: ScriptedUpstream) -> None:
    """Item 7: a response sent to filterd never reaches the upstream either."""
    qname = unique("qr-set-")
    packet = DNSRecord.question(qname)
    packet.header.qr = 1
    assert_no_reply(server.port, packet.pack(), tcp=False)
    assert all(q["name"] != qname for q in upstream.queries())


# --- 8. opcodes other than QUERY ------------------------------------------------------------


@pytest.mark.parametrize("opcode", [1, 2, 4, 5], ids=["IQUERY", "STATUS", "NOTIFY", "UPDATE"])
def test_other_opcodes_get_notimp(server: FilterdProcess, opcode: int) -> None:
    """Item 8: IQUERY, STATUS, NOTIFY and UPDATE are answered NOTIMP, opcode echoed."""
    reply = udp_exchange(server.port, header(flags=opcode << 11) + QUESTION)
    assert_error_reply(reply, NOTIMP)
    assert (reply_fields(reply)[1] >> 11) & 0xF == opcode


# --- 9. ANY ---------------------------------------------------------------------------------


@pytest.mark.parametrize("tcp", TRANSPORTS)
def test_any_gets_minimal_answer(
    server: FilterdProcess, upstream: ScriptedUpstream, tcp: bool
) -> None:
    """Item 9: ANY gets one HINFO "RFC8482" record and the upstream is never asked."""
    qname = unique("any-")
    reply = ask(server.port, qname, "ANY", tcp=tcp)
    assert rcode(reply) == "NOERROR"
    assert [(rr.rtype, rr.rdata.data) for rr in reply.rr] == [(QTYPE.HINFO, b"\x07RFC8482\x00")]
    time.sleep(0.2)
    assert all(q["name"] != qname for q in upstream.queries())


# --- 10. clients outside allow_clients --------------------------------------------------------


INSIDER = "127.0.0.2"  # the one loopback address the restricted filterd serves


@pytest.fixture(scope="module")
def restricted(
    tmp_path_factory: pytest.TempPathFactory, upstream: ScriptedUpstream
) -> Iterator[FilterdProcess]:
    """filterd serving only 10.0.0.0/8 and 127.0.0.2: queries from 127.0.0.1 come from outside."""
    process = FilterdProcess(
        tmp_path_factory.mktemp("restricted"),
        [upstream.addr],
        allow_clients=["10.0.0.0/8", f"{INSIDER}/32"],
    )
    process.start()  # its readiness probe gets REFUSED, which is still an answer
    yield process
    process.stop()


def assert_serves_insider(port: int) -> None:
    """The allowed loopback address still gets ordinary answers."""
    raw = udp_exchange(port, DNSRecord.question(unique("insider-")).pack(), source=INSIDER)
    assert raw is not None, "the allowed client got no answer"
    assert rcode(DNSRecord.parse(raw)) == "NOERROR"
    assert addresses(DNSRecord.parse(raw))


@pytest.mark.parametrize("qtype", ["A", "ANY"])
@pytest.mark.parametrize("tcp", TRANSPORTS)
def test_client_outside_allowed_networks_is_refused(
    restricted: FilterdProcess, upstream: ScriptedUpstream, tcp: bool, qtype: str
) -> None:
    """Item 10: a client outside allow_clients gets REFUSED (or nothing), never recursion."""
    qname = unique("outsider-")
    reply = ask(restricted.port, qname, qtype, tcp=tcp)  # from 127.0.0.1: not allowed
    assert reply is None or (rcode(reply) == "REFUSED" and not reply.rr)
    time.sleep(0.2)
    assert all(q["name"] != qname for q in upstream.queries()), "the upstream was asked"
    assert_serves_insider(restricted.port)


OUTSIDER_ERROR_CASES = {
    "malformed": FORMERR_CASES["self-pointer-question"],
    "notify-opcode": header(flags=4 << 11) + QUESTION,
    "edns-version-1": header(ar=1) + QUESTION + opt(version=1),
}


@pytest.mark.parametrize("packet", OUTSIDER_ERROR_CASES.values(), ids=OUTSIDER_ERROR_CASES.keys())
def test_client_outside_allowed_networks_gets_no_error_answers(
    restricted: FilterdProcess, packet: bytes
) -> None:
    """Item 10: an outsider's broken query is dropped or REFUSED too, not FORMERR/NOTIMP/BADVERS.

    Otherwise anyone on the Internet can see a DNS server answering on this address.
    """
    reply = udp_exchange(restricted.port, packet, timeout=1.0)
    if reply is not None:
        assert reply_fields(reply)[2] == REFUSED, f"outsider got rcode {reply_fields(reply)[2]}"
    assert_serves_insider(restricted.port)


# --- 11. answers too big for the client -----------------------------------------------------


@pytest.mark.parametrize(
    ("bufsize", "limit"),
    [(None, 512), (100, 512), (600, 600), (1232, 1232), (4096, 1232), (65535, 1232)],
    ids=["no-edns", "edns-100", "edns-600", "edns-1232", "edns-4096", "edns-65535"],
)
def test_big_answer_is_truncated_to_fit(
    server: FilterdProcess, bufsize: int | None, limit: int
) -> None:
    """Item 11: a UDP answer never exceeds what the client can take; TC=1 says retry on TCP."""
    query = make_query(unique("big-"), edns=bufsize is not None, bufsize=bufsize or 0)
    for _ in ("from the upstream", "from the cache"):
        raw = udp_exchange(server.port, query.pack())
        assert raw is not None
        assert len(raw) <= limit
        reply = DNSRecord.parse(raw)  # a valid message, not a cut-off one
        assert reply.header.id == query.header.id
        assert reply.header.tc == 1
        assert reply.q.qname == query.q.qname
        assert rcode(reply) == "NOERROR"


def test_small_answer_is_not_truncated(server: FilterdProcess) -> None:
    """Item 11: an answer that fits the client's EDNS size comes whole, without TC."""
    reply = ask(server.port, unique("small-"), edns=True, bufsize=1232)
    assert rcode(reply) == "NOERROR"
    assert reply.header.tc == 0
    assert addresses(reply)


def test_tcp_retry_gets_whole_answer(server: FilterdProcess) -> None:
    """Item 11: after TC=1, the same question over TCP returns all 100 records."""
    qname = unique("big-")
    assert ask(server.port, qname).header.tc == 1
    reply = ask(server.port, qname, tcp=True)
    assert rcode(reply) == "NOERROR"
    assert reply.header.tc == 0
    assert len(addresses(reply)) == 100


# --- 12. EDNS versions ----------------------------------------------------------------------


@pytest.mark.parametrize("tcp", TRANSPORTS)
def test_edns_version_1_gets_badvers(server: FilterdProcess, tcp: bool) -> None:
    """Item 12: EDNS version 1 gets BADVERS (16): header rcode 0, OPT extended rcode 1."""
    reply = exchange(server.port, header(ar=1) + QUESTION + opt(version=1), tcp)
    assert_error_reply(reply, 0)
    parsed = DNSRecord.parse(reply)
    opts = [rr for rr in parsed.ar if rr.rtype == T_OPT]
    assert len(opts) == 1
    assert opts[0].ttl >> 24 == 1, "extended rcode is not BADVERS"
    assert (opts[0].ttl >> 16) & 0xFF == 0, "we only speak EDNS version 0"


# --- 13. TCP framing, timeouts and the connection cap ---------------------------------------


def test_length_prefix_split_across_segments(server: FilterdProcess) -> None:
    """Item 13: a length prefix arriving in two TCP segments is reassembled and answered."""
    query = DNSRecord.question(unique("split-"))
    wire = struct.pack("!H", len(query.pack())) + query.pack()
    with socket.create_connection(("127.0.0.1", server.port), timeout=3) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(wire[:1])
        time.sleep(0.2)
        sock.sendall(wire[1:])
        raw = read_tcp_message(sock)
    assert raw is not None
    reply = DNSRecord.parse(raw)
    assert reply.header.id == query.header.id
    assert addresses(reply)


IDLE_TIMEOUT = 2.0
CLOSE_SLACK = 2.5  # how late after the timeout a close may come on a loaded machine


def closed_by_peer(sock: socket.socket) -> bool:
    """True when the other end closed (EOF or reset); False when it is merely quiet."""
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except ConnectionError:
        return True


@pytest.fixture
def short_idle(start_filterd: Callable[..., FilterdProcess]) -> FilterdProcess:
    return start_filterd(tcp={"idle_timeout": IDLE_TIMEOUT})


def test_trickling_client_is_disconnected(short_idle: FilterdProcess) -> None:
    """Item 13: a client sending one byte a second is cut off after ~idle_timeout."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", short_idle.port), timeout=3) as sock:
        sock.settimeout(1.0)
        message = struct.pack("!H", 40) + b"\x00" * 40  # would take 42 s to send whole
        closed_after = None
        for byte in message[: int(IDLE_TIMEOUT + CLOSE_SLACK) + 1]:  # give up once overdue
            try:
                sock.sendall(bytes([byte]))
            except ConnectionError:
                closed_after = time.monotonic() - started
                break
            if closed_by_peer(sock):  # waits up to a second: the trickle rate
                closed_after = time.monotonic() - started
                break
            assert ask(short_idle.port, unique("udp-meanwhile-")) is not None
    assert closed_after is not None, "the trickling connection was never closed"
    assert 1.0 <= closed_after <= IDLE_TIMEOUT + CLOSE_SLACK
    assert_still_serving(short_idle.port)


@pytest.mark.parametrize("after_query", [False, True], ids=["silent", "after-a-query"])
def test_idle_connection_is_closed(short_idle: FilterdProcess, after_query: bool) -> None:
    """Item 13: a connection that sends nothing (more) is closed after ~idle_timeout."""
    with socket.create_connection(("127.0.0.1", short_idle.port), timeout=3) as sock:
        if after_query:
            wire = DNSRecord.question(unique("idle-")).pack()
            sock.sendall(struct.pack("!H", len(wire)) + wire)
            assert read_tcp_message(sock) is not None
        started = time.monotonic()
        sock.settimeout(IDLE_TIMEOUT + CLOSE_SLACK)
        assert closed_by_peer(sock), "the idle connection was not closed"
        assert time.monotonic() - started <= IDLE_TIMEOUT + CLOSE_SLACK
    assert_still_serving(short_idle.port)


def tcp_ask(sock: socket.socket, qname: str) -> DNSRecord | None:
    wire = DNSRecord.question(qname).pack()
    try:
        sock.sendall(struct.pack("!H", len(wire)) + wire)
    except ConnectionError:
        return None
    raw = read_tcp_message(sock)
    return None if raw is None else DNSRecord.parse(raw)


def test_connection_cap_per_client(start_filterd: Callable[..., FilterdProcess]) -> None:
    """Item 13: with a cap of 3, a 4th concurrent connection is closed unanswered; UDP goes on."""
    process = start_filterd(tcp={"idle_timeout": 30, "max_connections_per_client": 3})
    address = ("127.0.0.1", process.port)
    held = [socket.create_connection(address, timeout=3) for _ in range(3)]
    try:
        for sock in held:
            assert tcp_ask(sock, unique("held-")) is not None
        started = time.monotonic()
        with socket.create_connection(address, timeout=3) as fourth:
            assert tcp_ask(fourth, unique("fourth-")) is None, "the 4th connection was served"
        assert time.monotonic() - started < SECOND, "the 4th connection was not closed at once"
        assert process.metric("filterd_tcp_rejected_connections_total") >= 1
        assert ask(process.port, unique("udp-meanwhile-")) is not None
        for sock in held:  # the held connections still work
            assert tcp_ask(sock, unique("held-again-")) is not None
        held.pop().close()
        deadline = time.monotonic() + 3
        while True:  # the freed slot is given to a new connection once filterd sees the close
            with socket.create_connection(address, timeout=3) as replacement:
                if tcp_ask(replacement, unique("replacement-")) is not None:
                    break
            assert time.monotonic() < deadline, "a freed connection slot was never reused"
            time.sleep(0.1)
    finally:
        for sock in held:
            sock.close()
    assert_still_serving(process.port)


# --- 14. pipelining -------------------------------------------------------------------------


def test_pipelined_queries_answered_by_id(server: FilterdProcess) -> None:
    """Item 14: two queries in one TCP write get two answers, each matched to its question."""
    slow = DNSRecord.question(unique("slow300-"))
    fast = DNSRecord.question(unique("fast-"))
    fast.header.id = (slow.header.id + 1) & 0xFFFF
    wires = [q.pack() for q in (slow, fast)]
    with socket.create_connection(("127.0.0.1", server.port), timeout=3) as sock:
        sock.sendall(b"".join(struct.pack("!H", len(w)) + w for w in wires))
        replies = [read_tcp_message(sock) for _ in wires]
    assert None not in replies
    by_id = {r.header.id: r for r in (DNSRecord.parse(raw) for raw in replies)}
    for query in (slow, fast):
        reply = by_id[query.header.id]
        assert reply.q.qname == query.q.qname
        assert rcode(reply) == "NOERROR"
        assert addresses(reply)
    first = DNSRecord.parse(replies[0])
    assert first.header.id == fast.header.id, "the fast answer waited for the slow one"


# --- 15. names with markup, control and non-UTF-8 bytes --------------------------------------

# (label, qtype). dnslib, and so the scripted upstream, cannot parse a non-UTF-8 name, so that
# one is asked as ANY, which filterd answers itself, through the same parsing and logging.
HOSTILE_LABELS = {
    "markup": (b"<script>", T_A),
    "quotes": (b"a\"b'c", T_A),
    "control": (b"\x00\x07\x1b[31m\x7f", T_A),
    "backslash-dot": (b"a\\b.c", T_A),
    "non-utf8": (b"\xff\xfe\xc3(<", T_ANY),
}


def unescape(text: str) -> list[bytes]:
    """Labels of a presentation-form name (RFC 1035 \\DDD and \\X escapes)."""
    labels, label, i = [], bytearray(), 0
    while i < len(text):
        char = text[i]
        if char == "\\" and text[i + 1 : i + 4].isdigit():
            label.append(int(text[i + 1 : i + 4]))
            i += 4
            continue
        if char == "\\":
            label += text[i + 1].encode()
            i += 2
            continue
        if char == ".":
            labels.append(bytes(label))
            label = bytearray()
        else:
            label += char.encode()
        i += 1
    return [*labels, bytes(label)]


@pytest.mark.parametrize(("label", "qtype"), HOSTILE_LABELS.values(), ids=HOSTILE_LABELS.keys())
def test_hostile_names_answered_and_logged_escaped(
    server: FilterdProcess, label: bytes, qtype: int
) -> None:
    """Item 15: odd bytes in a name are answered normally and appear escaped in the query log."""
    tag = f"esc{next(_ids)}"
    labels = [label, tag.encode(), b"example", b"com"]
    question = name(*labels) + struct.pack("!HH", qtype, 1)
    raw = udp_exchange(server.port, header() + question)
    assert raw is not None
    assert reply_fields(raw)[2] == NOERROR
    assert raw[12 : 12 + len(question)] == question, "question not echoed byte for byte"
    assert struct.unpack_from("!H", raw, 6)[0] >= 1, "no answer records"
    names = [
        row[0]
        for row in logged(
            server.db_path, None, "name", where="name LIKE ?", params=(f"%{tag}.example.com",)
        )
    ]
    assert len(names) == 1, f"query log entry not found: {names}"
    shown = names[0]
    assert all(0x21 <= ord(c) <= 0x7E for c in shown), f"unsafe character in {shown!r}"
    assert not set(shown) & set("<>\"'"), f"markup character in {shown!r}"
    assert unescape(shown) == [part.lower() for part in labels], "escaping lost information"


# --- TCP limits (found in review of the forwarder core) ------------------------------------


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_refused_clients_cannot_use_up_the_tcp_connection_slots(start_filterd):
    """serve/sockets.py TcpServer.serve counts and holds connections before asking the ACL."""
    filterd = start_filterd(allow_clients=["127.0.0.1/32"])
    outsiders: list[socket.socket] = []
    try:
        # 32 addresses that may not query, 16 connections each (the per-client cap).
        for host in range(2, 34):
            for _ in range(16):
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.bind((f"127.0.0.{host}", 0))
                sock.connect(("127.0.0.1", filterd.port))
                outsiders.append(sock)
        time.sleep(0.5)  # let filterd accept them all
        query = make_query(unique("tcpslot-"))
        raw = tcp_exchange(filterd.port, query.pack(), timeout=2)
        assert raw is not None, (
            "an allowed client got no TCP answer: connections from clients that are not "
            "allowed to query filled the global TCP cap"
        )
        assert DNSRecord.parse(raw).header.rcode == 0
    finally:
        for sock in outsiders:
            sock.close()


def test_tcp_client_that_never_reads_cannot_grow_filterd_memory(start_filterd):
    """serve/sockets.py _write_message: writer.write() with no drain and no bound on the buffer."""
    filterd = start_filterd()
    name = unique("big-")
    primed = ask(filterd.port, name, tcp=True)
    assert len(primed.rr) == 100  # ~1.7 kB answer, now cached
    query = make_query(name).pack()
    message = struct.pack("!H", len(query)) + query
    before = rss_kib(filterd.proc.pid)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", filterd.port))
    try:
        sock.sendall(message * 30_000)  # ~1.3 MB of queries; ~50 MB of answers, never read
        time.sleep(2)
        grown_mib = (rss_kib(filterd.proc.pid) - before) / 1024
    finally:
        sock.close()
    assert grown_mib < 16, (
        f"filterd grew by {grown_mib:.0f} MiB buffering answers for a TCP client that does "
        "not read them"
    )
    assert_still_serving(filterd.port)
