"""Defects found in review of the DNS forwarder core (issue 2).

Each test checks something a user or operator would notice: an answer that does not come,
memory that grows past its bound, a setting that does not take effect. All traffic is on
loopback.
"""

from __future__ import annotations

import asyncio
import errno
import resource
import signal
import socket
import struct
import threading
import time
import tracemalloc

import pytest
from dnslib import QTYPE, RR, A, DNSRecord

from filterd.clock import SystemClock
from filterd.dns.records import decode_message
from filterd.dns.wire import text_to_wire
from filterd.forward.cache import AnswerCache, Entry
from filterd.forward.settings import CacheLimits
from filterd.forward.upstream import Endpoint, UpstreamClient
from filterd.forward.upstream_stage import RebindingPolicy, UpstreamStage
from filterd.metrics import Metrics
from tests.support.dns_client import (
    addresses,
    ask,
    assert_still_serving,
    make_query,
    rcode,
    tcp_exchange,
    udp_exchange,
)
from tests.support.filterd_process import wait_for
from tests.support.handler_upstream import HandlerUpstream
from tests.support.names import unique
from tests.support.scripted_upstream import default_a
from tests.support.upstream_process import ScriptedUpstream


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


# ------------------------------------------------------------ TCP: refused clients' slots


def test_refused_clients_cannot_use_up_the_tcp_connection_slots(start_filterd):
    """server.py TcpServer.serve counts and holds connections before asking the ACL."""
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


# ------------------------------------------------- TCP: no backpressure on the write side


def test_tcp_client_that_never_reads_cannot_grow_filterd_memory(start_filterd):
    """server.py _write_message: writer.write() with no drain and no bound on the buffer."""
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


# --------------------------------------------- UDP: no bound on lookups (sockets) in flight


def test_burst_of_slow_lookups_from_one_client_does_not_break_other_clients(start_filterd):
    """upstream.py _udp opens a socket per lookup with no cap on lookups in flight; when the
    process runs out of descriptors create_datagram_endpoint's OSError escapes resolve()."""
    filterd = start_filterd(upstream_timeout=5)
    # The soft limit a shell gives `make run` on most systems.
    resource.prlimit(filterd.proc.pid, resource.RLIMIT_NOFILE, (1024, 1024))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as flood:
        flood.bind(("127.0.0.2", 0))
        for _ in range(1200):  # within the default burst of 2000 for one client
            flood.sendto(make_query(unique("slow1500-")).pack(), ("127.0.0.1", filterd.port))
        time.sleep(0.3)
        name = unique("innocent-")
        raw = udp_exchange(filterd.port, make_query(name).pack(), timeout=3)
    assert raw is not None
    reply = DNSRecord.parse(raw)
    assert rcode(reply) == "NOERROR", (
        "another client's ordinary query failed while one client had 1200 slow lookups "
        f"outstanding: {rcode(reply)}"
    )
    assert addresses(reply) == [default_a(name)]


# ----------------------------------------------- health: one broken name backs off upstream


def test_one_broken_name_does_not_put_the_only_upstream_in_backoff(start_filterd):
    """upstream.py Health.failed: A and AAAA of one dead name count as separate failures."""
    filterd = start_filterd()
    broken = unique("silent-")
    # What a browser does for a name whose servers are down: A and AAAA together, and again
    # when the stub resolver retries. Whatever order the failures land in, this is >= 3.
    for _ in range(2):
        threads = [
            threading.Thread(target=ask, args=(filterd.port, broken, qtype), kwargs={"timeout": 2})
            for qtype in ("A", "AAAA")
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    name = unique("healthy-")
    reply = ask(filterd.port, name, timeout=2)
    assert rcode(reply) == "NOERROR", (
        "the upstream answers every other name, yet after one dead name every client gets "
        f"{rcode(reply)}"
    )


# ------------------------------------------ failover: a socket error skips the other upstreams


def test_socket_error_for_one_upstream_still_fails_over(upstream: ScriptedUpstream):
    """upstream.py _udp: OSError from create_datagram_endpoint (EAFNOSUPPORT on a host without
    IPv6, EMFILE) is not an UpstreamFailure, so resolve() aborts instead of trying the next."""
    name = unique("v6first-")

    async def resolve():
        loop = asyncio.get_running_loop()
        real = loop.create_datagram_endpoint

        async def no_ipv6(factory, *args, family=0, **kwargs):
            if family == socket.AF_INET6:
                raise OSError(errno.EAFNOSUPPORT, "Address family not supported by protocol")
            return await real(factory, *args, family=family, **kwargs)

        loop.create_datagram_endpoint = no_ipv6
        client = UpstreamClient(
            [Endpoint("2001:db8::53", 53), Endpoint("127.0.0.1", upstream.port)],
            0.5,
            SystemClock(),
            lambda label, kind: None,
        )
        return await client.resolve(text_to_wire(name), 1, 1, False, False)

    try:
        message = asyncio.run(resolve())
    except OSError as err:
        pytest.fail(f"the IPv4 upstream was never tried; resolve() raised {err!r}")
    assert message is not None
    assert [r.rdata for r in message.answer] == [socket.inet_aton(default_a(name))]


# ----------------------------------------------------------- RFC 2181 section 8: TTL MSB


def answer_with_high_bit_ttl(query: DNSRecord) -> DNSRecord:
    reply = query.reply()
    reply.add_answer(RR(query.q.qname, QTYPE.A, ttl=0xFFFFFFFF, rdata=A("192.0.2.7")))
    return reply


def test_ttl_with_the_high_bit_set_is_treated_as_zero(start_filterd):
    """records.py _decode_record masks the TTL to 0x7FFFFFFF; RFC 2181 s.8 says treat as 0."""
    with HandlerUpstream(answer_with_high_bit_ttl) as own:
        filterd = start_filterd(upstreams=[own.addr])
        name = unique("msbttl-")
        first = ask(filterd.port, name)
        assert addresses(first) == ["192.0.2.7"]
        assert first.rr[0].ttl == 0, f"TTL 0xFFFFFFFF was served as {first.rr[0].ttl} s"
        ask(filterd.port, name)
        assert own.asked.count(name) == 2, "an answer with TTL 0 must not be cached"


# ------------------------------------------------------------------ reload: rebinding


def test_reload_that_tightens_rebinding_applies_to_cached_answers(start_filterd):
    """daemon.py apply() swaps the rebinding policy but keeps answers cleaned by the old one."""
    filterd = start_filterd(rebinding={"allow": ["example"]})
    name = unique("rebind-rfc1918-")
    assert addresses(ask(filterd.port, name)) == ["10.1.2.3"]  # allowed, cached for 300 s
    filterd.write_config(dict(filterd.config, rebinding={"allow": []}))
    filterd.signal(signal.SIGHUP)
    assert wait_for(lambda: "config reloaded" in filterd.log())
    reply = ask(filterd.port, name)
    assert rcode(reply) == "NOERROR"
    assert not reply.rr, (
        f"after removing the name from rebinding.allow it still resolves inside the home: "
        f"{addresses(reply)}"
    )


# ------------------------------------------------------- reload: queries in flight


def test_reload_of_upstreams_does_not_fail_queries_in_flight(start_filterd):
    """upstream.py resolve(): self.health[endpoint] raises KeyError for an endpoint removed by
    configure() while its query was in flight; the answer already received is thrown away."""
    with ScriptedUpstream() as first, ScriptedUpstream() as second:
        filterd = start_filterd(upstreams=[first.addr], upstream_timeout=3)
        name = unique("slow800-")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.settimeout(5)
            query = make_query(name)
            client.sendto(query.pack(), ("127.0.0.1", filterd.port))
            assert wait_for(lambda: first.queries_for(name), timeout=2)
            filterd.write_config(dict(filterd.config, upstreams=[second.addr]))
            filterd.signal(signal.SIGHUP)
            assert wait_for(lambda: "config reloaded" in filterd.log(), timeout=0.7)
            reply = DNSRecord.parse(client.recv(65535))
        assert rcode(reply) == "NOERROR", (
            f"a query in flight during a reload got {rcode(reply)} although its upstream answered"
        )
        assert addresses(reply) == [default_a(name)]
        assert "Traceback" not in filterd.log()


# ------------------------------------------------------------- cache memory bound


def test_cache_memory_stays_near_max_megabytes():
    """cache.py Entry.size counts the body plus a flat 240 bytes, not the key, the second
    (patched) copy of the body, nor the TTL offset and value tuples."""
    limits = CacheLimits(max_entries=10_000_000, max_bytes=4 * 2**20)
    stage = UpstreamStage(None, limits, RebindingPolicy(True, ()), Metrics())
    tracemalloc.start()
    try:
        cache = AnswerCache(limits)
        base = tracemalloc.get_traced_memory()[0]
        i = 0
        while not cache.evictions:
            name = f"host{i}.cdn.example.com"
            reply = DNSRecord.question(name).reply()
            for n in range(4):  # a typical CDN answer: a few addresses
                reply.add_answer(RR(name, QTYPE.A, ttl=300 + n, rdata=A(f"198.51.100.{n + 1}")))
            qname = text_to_wire(name)
            outcome = stage.clean(qname, decode_message(reply.pack()))
            entry = Entry(outcome.rcode, outcome.flags, outcome.encoded, 100, outcome.ttl, 86400)
            entry.body_at(101)  # answered once a second later
            cache.put(qname + b"\x00\x01\x00\x01\x00", entry)
            i += 1
        del reply, outcome, entry
        used = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert used <= 1.25 * limits.max_bytes, (
        f"cache.max_megabytes 4 holds {used / 2**20:.1f} MiB ({len(cache)} entries)"
    )
