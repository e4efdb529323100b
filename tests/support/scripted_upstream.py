"""Scripted upstream DNS server for tests and benchmarks (UDP + TCP on one loopback port).

Run: ``python -m tests.support.scripted_upstream --address 127.0.0.1 --port 0 [--log FILE]``.
Prints ``READY <port>`` once listening. The behaviour for a query is chosen by the first
label of its name (case-insensitive prefix), e.g. ``nx-abc.example`` -> NXDOMAIN; see
``plan()`` and ``build()``. Anything unrecognised gets a deterministic default answer.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import re
import signal
import socket
import struct
import sys
import zlib
from dataclasses import dataclass, replace
from typing import IO

from dnslib import (
    AAAA,
    CNAME,
    EDNS0,
    HTTPS,
    NS,
    QTYPE,
    RCODE,
    RR,
    SOA,
    A,
    DNSBuffer,
    DNSHeader,
    DNSLabel,
    DNSQuestion,
    DNSRecord,
)

DEFAULT_TTL = 300
NEG_TTL = 3600
SOA_MINIMUM = 60
EVIL_IP = "6.6.6.6"
FORGERY_DELAY = 0.05
HOLD_LIMIT = 30.0


def aaaa(text: str) -> AAAA:
    """AAAA rdata via ipaddress (dnslib cannot parse "::ffff:1.2.3.4" notation)."""
    return AAAA(list(ipaddress.IPv6Address(text).packed))


REBIND: dict[str, tuple[int, object]] = {
    "rfc1918": (QTYPE.A, A("10.1.2.3")),
    "loopback": (QTYPE.A, A("127.0.0.1")),
    "linklocal": (QTYPE.A, A("169.254.1.1")),
    "zero": (QTYPE.A, A("0.0.0.0")),
    "home": (QTYPE.A, A("192.168.1.10")),
    "ula": (QTYPE.AAAA, aaaa("fd00::1")),
    "v6loop": (QTYPE.AAAA, aaaa("::1")),
    "v6ll": (QTYPE.AAAA, aaaa("fe80::1")),
    "mapped": (QTYPE.AAAA, aaaa("::ffff:10.0.0.1")),
    "nat64": (QTYPE.AAAA, aaaa("64:ff9b::192.168.1.1")),
    "sixtofour": (QTYPE.AAAA, aaaa("2002:c0a8:101::1")),
    "v4compat": (QTYPE.AAAA, aaaa("::10.0.0.1")),
    "broadcast": (QTYPE.A, A("255.255.255.255")),
    "multicast": (QTYPE.A, A("239.255.255.250")),
    "benchmark": (QTYPE.A, A("198.18.0.1")),
    "sitelocal": (QTYPE.AAAA, aaaa("fec0::1")),
    # HTTPS 1 . ipv4hint=10.0.0.1 (SvcParamKey 4 = ipv4hint)
    "hint": (QTYPE.HTTPS, HTTPS(1, [], [(4, bytes([10, 0, 0, 1]))])),
}


def _host_byte(name: str | DNSLabel) -> int:
    """1..254, derived from the lower-cased name without trailing dot."""
    key = str(name).rstrip(".").lower().encode()
    return zlib.crc32(key) % 254 + 1


def default_a(name: str | DNSLabel) -> str:
    """The A address the default behaviour gives ``name`` (case-insensitive)."""
    return f"198.51.100.{_host_byte(name)}"


def default_aaaa(name: str | DNSLabel) -> str:
    """The AAAA address the default behaviour gives ``name`` (case-insensitive)."""
    return f"2001:db8::{_host_byte(name):x}"


@dataclass
class Step:
    """One output action: wait ``delay`` seconds, then emit ``data`` in the way ``how`` says.

    how: "send" (one DNS message), "other_port" (UDP from a fresh socket),
    "half_close" (TCP: length prefix + half the message, then close),
    "hold" (TCP: raw bytes, then keep the connection open until the peer closes).
    """

    data: bytes
    delay: float = 0.0
    how: str = "send"


def edns_of(query: DNSRecord) -> RR | None:
    """The query's OPT pseudo-record, if any."""
    return next((rr for rr in query.ar if rr.rtype == QTYPE.OPT), None)


def first_label(query: DNSRecord) -> str:
    """Lower-cased first label of the question name ("" for the root)."""
    labels = query.q.qname.label
    return labels[0].decode("ascii", "replace").lower() if labels else ""


def reply_to(
    query: DNSRecord, q: DNSQuestion | None = None, rcode: int = RCODE.NOERROR
) -> DNSRecord:
    """Empty reply skeleton: same ID, QR=1, RA=1, RD copied, question echoed."""
    h = query.header
    header = DNSHeader(id=h.id, qr=1, ra=1, rd=h.rd, opcode=h.opcode, rcode=rcode)
    return DNSRecord(header, q=q if q is not None else query.q)


def to_wire(reply: DNSRecord, query: DNSRecord, tcp: bool) -> bytes:
    """Add OPT when the query had EDNS, pack, and apply the UDP size limit (TC=1, no records)."""
    opt = edns_of(query)
    if opt is not None:
        reply.add_ar(EDNS0(udp_len=1232, flags="do" if opt.ttl & 0x8000 else ""))
    data = reply.pack()
    limit = max(512, opt.rclass) if opt is not None else 512
    if not tcp and len(data) > limit:
        short = reply_to(query, reply.q, reply.header.rcode)
        short.header.tc = 1
        return to_wire(short, query, tcp=True)
    return data


def soa_for(qname: DNSLabel, ttl: int) -> RR:
    """SOA RR for the parent zone of ``qname``."""
    zone = DNSLabel(qname.label[1:])
    mname = DNSLabel((b"ns", *zone.label))
    rname = DNSLabel((b"hostmaster", *zone.label))
    times = (1, 3600, 600, 86400, SOA_MINIMUM)
    return RR(zone, QTYPE.SOA, ttl=ttl, rdata=SOA(mname, rname, times))


def add_default(reply: DNSRecord, qname: DNSLabel, qtype: int, ttl: int = DEFAULT_TTL) -> None:
    """Default data: derived A / AAAA, otherwise NODATA with the parent zone's SOA."""
    if qtype == QTYPE.A:
        reply.add_answer(RR(qname, QTYPE.A, ttl=ttl, rdata=A(default_a(qname))))
    elif qtype == QTYPE.AAAA:
        reply.add_answer(RR(qname, QTYPE.AAAA, ttl=ttl, rdata=aaaa(default_aaaa(qname))))
    else:
        reply.add_auth(soa_for(qname, DEFAULT_TTL))


def build(query: DNSRecord, label: str) -> DNSRecord:
    """The full (TCP-sized) answer for the behaviour named by ``label``."""
    qname, qtype = query.q.qname, query.q.qtype
    if label.startswith("nx-"):
        reply = reply_to(query, rcode=RCODE.NXDOMAIN)
        reply.add_auth(soa_for(qname, NEG_TTL))
        return reply
    if label.startswith("nodata-"):
        reply = reply_to(query)
        reply.add_auth(soa_for(qname, NEG_TTL))
        return reply
    if label.startswith("servfail-"):
        return reply_to(query, rcode=RCODE.SERVFAIL)
    if label.startswith("refused-"):
        return reply_to(query, rcode=RCODE.REFUSED)
    reply = reply_to(query)
    if m := re.match(r"ttl(\d+)-", label):
        add_default(reply, qname, qtype, ttl=int(m[1]))
    elif label.startswith("cname-"):
        target = DNSLabel((b"target", *qname.label[1:]))
        reply.add_answer(RR(qname, QTYPE.CNAME, ttl=DEFAULT_TTL, rdata=CNAME(target)))
        if qtype in (QTYPE.A, QTYPE.AAAA):
            add_default(reply, target, qtype)
    elif label.startswith("bailiwick-"):
        add_default(reply, qname, qtype)
        bank, evil_ns = DNSLabel("bank.example"), DNSLabel("ns.evil.example")
        reply.add_answer(RR(bank, QTYPE.A, ttl=DEFAULT_TTL, rdata=A(EVIL_IP)))
        reply.add_auth(RR(bank, QTYPE.NS, ttl=DEFAULT_TTL, rdata=NS(evil_ns)))
        reply.add_ar(RR(evil_ns, QTYPE.A, ttl=DEFAULT_TTL, rdata=A(EVIL_IP)))
        reply.add_ar(RR(bank, QTYPE.A, ttl=DEFAULT_TTL, rdata=A(EVIL_IP)))
    elif (m := re.match(r"rebind-([a-z0-9]+)-", label)) and m[1] in REBIND:
        rtype, rdata = REBIND[m[1]]
        reply.add_answer(RR(qname, rtype, ttl=DEFAULT_TTL, rdata=rdata))
    elif label.startswith(("tc-", "big-")):
        count = 3 if label.startswith("tc-") else 100
        for i in range(1, count + 1):
            reply.add_answer(RR(qname, QTYPE.A, ttl=DEFAULT_TTL, rdata=A(f"198.51.100.{i}")))
    else:
        add_default(reply, qname, qtype)
    return reply


def forgery(query: DNSRecord, label: str) -> DNSRecord | None:
    """The bogus reply a "forged-*" behaviour sends first (always carrying 6.6.6.6)."""
    q = query.q
    if label.startswith("forged-name-"):
        q = DNSQuestion(DNSLabel("evil.example"), q.qtype, q.qclass)
    elif label.startswith("forged-case-"):
        swapped = DNSLabel(tuple(part.swapcase() for part in q.qname.label))
        q = DNSQuestion(swapped, q.qtype, q.qclass)
    elif label.startswith("forged-type-"):
        q = DNSQuestion(q.qname, QTYPE.MX if q.qtype == QTYPE.A else QTYPE.A, q.qclass)
    elif not label.startswith(("forged-id-", "forged-port-", "forged-qr0-")):
        return None
    reply = reply_to(query, q)
    reply.add_answer(RR(q.qname, QTYPE.A, ttl=DEFAULT_TTL, rdata=A(EVIL_IP)))
    if label.startswith("forged-id-"):
        reply.header.id = (query.header.id + 1) & 0xFFFF
    elif label.startswith("forged-qr0-"):
        reply.header.qr = 0
    return reply


def malformed(query: DNSRecord) -> bytes:
    """Right ID and QR=1, question echoed, ANCOUNT=1 whose owner name points at itself."""
    h = query.header
    flags = 0x8000 | (h.opcode << 11) | (h.rd << 8) | 0x0080
    buf = DNSBuffer()
    query.q.pack(buf)
    head = struct.pack("!6H", h.id, flags, 1, 1, 0, 0) + bytes(buf.data)
    return head + struct.pack("!H", 0xC000 | len(head)) + b"\xde\xad\xbe\xef\x00\x01garbage"


def plan(query: DNSRecord, tcp: bool) -> list[Step]:
    """Decide what to send back for ``query`` over the given transport."""
    label = first_label(query)
    if label.startswith("silent-"):
        return []
    if label.startswith("malformed-"):
        return [Step(malformed(query))]
    if not tcp and label.startswith(("tc-", "tcpclose-", "tcponebyte-")):
        empty = reply_to(query)
        empty.header.tc = 1
        return [Step(to_wire(empty, query, tcp))]
    if label.startswith("tcpclose-"):
        return [Step(to_wire(build(query, label), query, tcp), how="half_close")]
    if label.startswith("tcponebyte-"):
        return [Step(b"\x00", how="hold")]
    genuine = Step(to_wire(build(query, label), query, tcp))
    if m := re.match(r"slow(\d+)-", label):
        return [replace(genuine, delay=int(m[1]) / 1000)]
    fake = forgery(query, label)
    if fake is None:
        return [genuine]
    if label.startswith("forged-port-"):
        if tcp:
            return [genuine]
        return [
            Step(to_wire(fake, query, tcp), how="other_port"),
            replace(genuine, delay=FORGERY_DELAY),
        ]
    return [Step(to_wire(fake, query, tcp)), replace(genuine, delay=FORGERY_DELAY)]


class Server:
    """Holds the log and runs plans on the UDP and TCP sockets."""

    def __init__(self, address: str, family: int, log: IO[str] | None) -> None:
        self.address = address
        self.family = family
        self.log = log
        self.tasks: set[asyncio.Task[None]] = set()

    def spawn(self, coro: object) -> None:
        """Run a coroutine in the background, keeping a reference to it."""
        task = asyncio.ensure_future(coro)  # type: ignore[arg-type]
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def receive(self, data: bytes, transport: str) -> DNSRecord | None:
        """Parse and log a query; None (ignored) when it is not a usable query."""
        try:
            query = DNSRecord.parse(data)
        except Exception:
            return None
        if query.header.qr or not query.questions:
            return None
        if self.log is not None:
            opt = edns_of(query)
            entry = {
                "name": str(query.q.qname).removesuffix("."),
                "qtype": QTYPE.get(query.q.qtype),
                "transport": transport,
                "id": query.header.id,
                "edns_size": opt.rclass if opt is not None else None,
                "do": bool(opt is not None and opt.ttl & 0x8000),
            }
            self.log.write(json.dumps(entry) + "\n")
            self.log.flush()
        return query

    async def run_udp(
        self, steps: list[Step], transport: asyncio.DatagramTransport, peer: tuple
    ) -> None:
        """Carry out a plan for a UDP query."""
        for step in steps:
            if step.delay:
                await asyncio.sleep(step.delay)
            if step.how == "other_port":
                with socket.socket(self.family, socket.SOCK_DGRAM) as other:
                    other.bind((self.address, 0))
                    other.sendto(step.data, peer)
            elif not transport.is_closing():
                transport.sendto(step.data, peer)

    async def run_tcp(
        self, steps: list[Step], writer: asyncio.StreamWriter, peer_closed: asyncio.Event
    ) -> None:
        """Carry out a plan for one query received on a TCP connection."""
        for step in steps:
            if step.delay:
                await asyncio.sleep(step.delay)
            if writer.is_closing():
                return
            prefix = struct.pack("!H", len(step.data))
            if step.how == "half_close":
                writer.write(prefix + step.data[: len(step.data) // 2])
                writer.close()
                return
            if step.how == "hold":
                writer.write(step.data)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(peer_closed.wait(), HOLD_LIMIT)
                writer.close()
                return
            writer.write(prefix + step.data)
            with contextlib.suppress(ConnectionError):
                await writer.drain()

    async def handle_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve length-prefixed queries on one connection until the peer closes."""
        peer_closed = asyncio.Event()
        pending: set[asyncio.Task[None]] = set()
        try:
            while True:
                (length,) = struct.unpack("!H", await reader.readexactly(2))
                query = self.receive(await reader.readexactly(length), "tcp")
                if query is not None:
                    task = asyncio.ensure_future(
                        self.run_tcp(plan(query, True), writer, peer_closed)
                    )
                    pending.add(task)
                    task.add_done_callback(pending.discard)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            peer_closed.set()
            if pending:
                await asyncio.wait(pending, timeout=HOLD_LIMIT)
            writer.close()


class UdpProtocol(asyncio.DatagramProtocol):
    """Hands each datagram to the server as its own task."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        query = self.server.receive(data, "udp")
        if query is not None and self.transport is not None:
            self.server.spawn(self.server.run_udp(plan(query, False), self.transport, addr))

    def error_received(self, exc: Exception) -> None:
        """ICMP errors (peer gone) are irrelevant here."""


def bind_pair(address: str, port: int, family: int) -> tuple[socket.socket, socket.socket]:
    """Bind a UDP and a TCP socket on the same port (port 0: pick a free one)."""
    for _ in range(100):
        udp = socket.socket(family, socket.SOCK_DGRAM)
        tcp = socket.socket(family, socket.SOCK_STREAM)
        try:
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            udp.bind((address, port))
            tcp.bind((address, udp.getsockname()[1]))
            tcp.listen(128)
            return udp, tcp
        except OSError:
            udp.close()
            tcp.close()
            if port:
                raise
    raise OSError("could not find a port free for both UDP and TCP")


async def serve(address: str, port: int, log_path: str | None) -> None:
    """Listen, announce READY, and serve until SIGTERM/SIGINT."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    udp_sock, tcp_sock = bind_pair(address, port, family)
    log = open(log_path, "a", encoding="utf-8") if log_path else None  # noqa: SIM115
    server = Server(address, family, log)
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: UdpProtocol(server), sock=udp_sock)
    tcp_server = await asyncio.start_server(server.handle_tcp, sock=tcp_sock)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"READY {udp_sock.getsockname()[1]}", flush=True)
    await stop.wait()
    transport.close()
    tcp_server.close()
    if log is not None:
        log.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log", default=None, help="append one JSON line per query here")
    args = parser.parse_args(argv)
    try:
        loopback = ipaddress.ip_address(args.address).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        parser.error("--address must be a loopback address (127.0.0.0/8 or ::1)")
    asyncio.run(serve(args.address, args.port, args.log))
    return 0


if __name__ == "__main__":
    sys.exit(main())
