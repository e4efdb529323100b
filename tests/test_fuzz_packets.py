"""Fuzzing: mangled and random packets, over UDP and TCP, never stop filterd from serving.

One filterd process takes every batch. After each batch an ordinary query must be answered, and
at the end the process must still be running with no traceback in its log.
"""

from __future__ import annotations

import socket
import struct

from dnslib import EDNS0, QTYPE, DNSHeader, DNSQuestion, DNSRecord
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.dns_client import assert_still_serving
from tests.support.filterd_process import FilterdProcess

QTYPES = ["A", "AAAA", "MX", "TXT", "HTTPS", "SOA", "PTR", "ANY", "CNAME", "SRV"]
LABEL = st.from_regex(r"[a-z0-9]{1,12}", fullmatch=True)


@st.composite
def valid_queries(draw: st.DrawFn) -> bytes:
    """A well-formed query: random name, type, ID and EDNS settings."""
    labels = draw(st.lists(LABEL, min_size=1, max_size=4))
    qname = ".".join([*labels, "fuzz", "example"])
    query = DNSRecord(
        DNSHeader(id=draw(st.integers(0, 0xFFFF)), rd=1),
        q=DNSQuestion(qname, getattr(QTYPE, draw(st.sampled_from(QTYPES)))),
    )
    if draw(st.booleans()):
        flags = "do" if draw(st.booleans()) else ""
        query.add_ar(EDNS0(udp_len=draw(st.integers(0, 65535)), flags=flags))
    return query.pack()


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid query after a few random bit flips, cuts, insertions, deletions, header rewrites."""
    data = bytearray(draw(valid_queries()))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "header"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        elif kind == "header" and len(data) >= 12:
            field = draw(st.integers(0, 5))  # id, flags, qd, an, ns, ar
            struct.pack_into("!H", data, field * 2, draw(st.integers(0, 0xFFFF)))
    return bytes(data)


PACKETS = st.one_of(mutated(), st.binary(max_size=600), valid_queries())


def send_udp(port: int, packets: list[bytes]) -> None:
    """Send every packet; read whatever answers are already there, without waiting."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for packet in packets:
            sock.sendto(packet, ("127.0.0.1", port))
        sock.setblocking(False)
        try:
            while sock.recv(65535):
                pass
        except BlockingIOError:
            pass


def send_tcp(port: int, packets: list[bytes]) -> None:
    """Send every packet as one length-prefixed message on one connection, then hang up."""
    stream = b"".join(struct.pack("!H", len(p)) + p for p in packets)
    with socket.create_connection(("127.0.0.1", port), timeout=3) as sock:
        sock.sendall(stream)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(packets=st.lists(PACKETS, min_size=1, max_size=8), tcp=st.booleans())
def test_server_survives_mangled_packets(
    shared: FilterdProcess, packets: list[bytes], tcp: bool
) -> None:
    """No packet, or run of packets, on either transport stops filterd from answering."""
    (send_tcp if tcp else send_udp)(shared.port, packets)
    assert_still_serving(shared.port)


def test_no_traceback_after_fuzzing(shared: FilterdProcess) -> None:
    """Runs after the fuzz test: the process is alive and never logged a traceback."""
    assert shared.proc is not None and shared.proc.poll() is None
    assert_still_serving(shared.port)
    log = shared.log()
    assert "Traceback" not in log, log[max(log.find("Traceback") - 500, 0) :][:3000]
