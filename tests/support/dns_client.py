"""A minimal DNS client over real sockets, for tests: raw bytes in, raw bytes out."""

from __future__ import annotations

import socket
import struct
import time

from dnslib import EDNS0, DNSRecord


def udp_exchange(
    port: int, data: bytes, timeout: float = 3.0, host: str = "127.0.0.1", source: str | None = None
) -> bytes | None:
    """Send one datagram, return the first reply (or None on timeout)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        if source:
            sock.bind((source, 0))
        sock.settimeout(timeout)
        sock.sendto(data, (host, port))
        try:
            return sock.recv(65535)
        except TimeoutError:
            return None


def tcp_exchange(
    port: int, data: bytes, timeout: float = 3.0, host: str = "127.0.0.1"
) -> bytes | None:
    """Send one length-prefixed message over a new TCP connection, return the reply."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(struct.pack("!H", len(data)) + data)
        return read_tcp_message(sock)


def exchange(port: int, data: bytes, tcp: bool = False, timeout: float = 3.0) -> bytes | None:
    """One message to filterd over UDP or TCP; the reply's bytes, or None when none came."""
    return (tcp_exchange if tcp else udp_exchange)(port, data, timeout=timeout)


def read_tcp_message(sock: socket.socket) -> bytes | None:
    try:
        head = _read_exactly(sock, 2)
        if head is None:
            return None
        return _read_exactly(sock, struct.unpack("!H", head)[0])
    except (TimeoutError, ConnectionError):
        return None


def _read_exactly(sock: socket.socket, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def make_query(
    name: str, qtype: str = "A", edns: bool = False, do: bool = False, bufsize: int = 1232
) -> DNSRecord:
    record = DNSRecord.question(name, qtype)
    if edns or do:
        record.add_ar(EDNS0(udp_len=bufsize, flags="do" if do else ""))
    return record


def ask(
    port: int,
    name: str,
    qtype: str = "A",
    tcp: bool = False,
    timeout: float = 3.0,
    host: str = "127.0.0.1",
    source: str | None = None,
    **kwargs,
) -> DNSRecord | None:
    """Ask filterd (at `host`) a question, over UDP from `source` (a device's address) when
    given; the parsed reply, or None when nothing came back."""
    query = make_query(name, qtype, **kwargs)
    if tcp:
        assert source is None, "a source address is for UDP questions"
        raw = tcp_exchange(port, query.pack(), timeout=timeout, host=host)
    else:
        raw = udp_exchange(port, query.pack(), timeout=timeout, host=host, source=source)
    if raw is None:
        return None
    reply = DNSRecord.parse(raw)
    assert reply.header.id == query.header.id
    return reply


def timed_ask(port: int, name: str, qtype: str = "A", **kwargs) -> tuple[DNSRecord | None, float]:
    """`ask`, and how many seconds the answer (or the timeout) took."""
    started = time.monotonic()
    reply = ask(port, name, qtype, **kwargs)
    return reply, time.monotonic() - started


def rcode(reply: DNSRecord | None) -> str | None:
    from dnslib import RCODE

    return None if reply is None else RCODE.get(reply.header.rcode)


def addresses(reply: DNSRecord) -> list[str]:
    return [str(rr.rdata) for rr in reply.rr if rr.rtype in (1, 28)]


def ttls(reply: DNSRecord) -> list[int]:
    """The TTL of every answer record, in order."""
    return [rr.ttl for rr in reply.rr]


def assert_still_serving(port: int) -> None:
    """The check every hostile-input test ends with: an ordinary query is answered."""
    reply = ask(port, "still-serving.example.com")
    assert reply is not None, "filterd stopped answering"
    assert rcode(reply) == "NOERROR"
    assert addresses(reply), "ordinary query got no address"
