"""The cache and the upstream list, end to end: TTLs, negative caching, SERVFAIL caching,
coalescing, failover with backoff, random query IDs and ports, and the DO bit in the cache key.

Every test talks to a real filterd process over loopback and checks what the client receives
and what reached the (scripted) upstream.
"""

from __future__ import annotations

import asyncio
import errno
import itertools
import resource
import signal
import socket
import threading
import time

import pytest
from dnslib import QTYPE, RR, A, DNSRecord

from filterd.clock import SystemClock
from filterd.dns.wire import text_to_wire
from filterd.forward.upstream import Endpoint, UpstreamClient
from tests.support.dns_client import (
    addresses,
    ask,
    assert_still_serving,
    make_query,
    rcode,
    timed_ask,
    udp_exchange,
)
from tests.support.filterd_process import UPSTREAM_TIMEOUT, FilterdProcess, wait_for
from tests.support.handler_upstream import HandlerUpstream
from tests.support.names import unique
from tests.support.scripted_upstream import SOA_MINIMUM, default_a
from tests.support.upstream_process import ScriptedUpstream

# ---------------------------------------------------------------------------------- helpers


def soa_of(reply: DNSRecord):
    soas = [rr for rr in reply.auth if rr.rtype == QTYPE.SOA]
    assert len(soas) == 1, f"expected one SOA in the authority section, got {reply.auth}"
    return soas[0]


def answer_192_0_2_1(query: DNSRecord) -> DNSRecord:
    reply = query.reply()
    reply.add_answer(RR(query.q.qname, QTYPE.A, ttl=300, rdata=A("192.0.2.1")))
    return reply


# -------------------------------------------------------------------------------- TTLs


def test_ttl_counts_down_in_cache(shared: FilterdProcess, upstream: ScriptedUpstream):
    name = unique("countdown-")
    first = ask(shared.port, name)
    assert [rr.ttl for rr in first.rr] == [300]
    time.sleep(1.1)
    second = ask(shared.port, name)
    assert addresses(second) == addresses(first)
    assert 297 <= second.rr[0].ttl <= 299, "a cached answer's TTL must count down"
    assert len(upstream.queries_for(name)) == 1


def test_cache_min_and_max_ttl_clamp(start_filterd, upstream: ScriptedUpstream):
    filterd = start_filterd(cache={"min_ttl": 60, "max_ttl": 120})
    short = unique("ttl5-")
    reply = ask(filterd.port, short)
    assert [rr.ttl for rr in reply.rr] == [60], "TTL 5 is raised to min_ttl"
    again = ask(filterd.port, short)
    assert 58 <= again.rr[0].ttl <= 60
    assert len(upstream.queries_for(short)) == 1, "kept for min_ttl, not for 5 s"

    long = unique("ttl100000-")
    reply = ask(filterd.port, long)
    assert rcode(reply) == "NOERROR"
    assert reply.rr
    assert all(rr.ttl <= 120 for rr in reply.rr), "TTL 100000 is lowered to max_ttl"
    assert reply.rr[0].ttl == 120
    assert all(rr.ttl <= 120 for rr in ask(filterd.port, long).rr)
    assert_still_serving(filterd.port)


def test_ttl_zero_answer_not_cached(shared: FilterdProcess, upstream: ScriptedUpstream):
    name = unique("ttl0-")
    for _ in range(2):
        reply = ask(shared.port, name)
        assert addresses(reply) == [default_a(name)]
        assert [rr.ttl for rr in reply.rr] == [0]
    assert len(upstream.queries_for(name)) == 2, "a TTL 0 answer must not be cached"


# --------------------------------------------------------------------- negative caching


@pytest.mark.parametrize(("prefix", "expected"), [("nx-", "NXDOMAIN"), ("nodata-", "NOERROR")])
def test_negative_answers_cached_with_soa(
    shared: FilterdProcess, upstream: ScriptedUpstream, prefix: str, expected: str
):
    name = unique(prefix)
    for attempt in ("upstream", "cache"):
        reply = ask(shared.port, name)
        assert rcode(reply) == expected, attempt
        assert not reply.rr, attempt
        soa = soa_of(reply)
        # The scripted SOA has TTL 3600 and MINIMUM 60: RFC 2308 says min(TTL, MINIMUM).
        if attempt == "upstream":
            assert soa.ttl == SOA_MINIMUM
        else:
            assert SOA_MINIMUM - 2 <= soa.ttl <= SOA_MINIMUM
    assert len(upstream.queries_for(name)) == 1, "the negative answer was not cached"


def test_negative_ttl_capped_by_negative_max_ttl(start_filterd, upstream: ScriptedUpstream):
    filterd = start_filterd(cache={"negative_max_ttl": 10})
    name = unique("nx-")
    reply = ask(filterd.port, name)
    assert rcode(reply) == "NXDOMAIN"
    assert soa_of(reply).ttl == 10
    nodata = ask(filterd.port, unique("nodata-"))
    assert rcode(nodata) == "NOERROR"
    assert soa_of(nodata).ttl == 10
    assert rcode(ask(filterd.port, name)) == "NXDOMAIN"
    assert len(upstream.queries_for(name)) == 1
    assert_still_serving(filterd.port)


# ------------------------------------------------------------------- SERVFAIL caching


def test_upstream_servfail_cached_briefly(shared: FilterdProcess, upstream: ScriptedUpstream):
    # Default servfail_ttl (2 s): an immediate repeat is not sent upstream again.
    name = unique("servfail-")
    assert rcode(ask(shared.port, name)) == "SERVFAIL"
    assert rcode(ask(shared.port, name)) == "SERVFAIL"
    assert len(upstream.queries_for(name)) == 1
    assert_still_serving(shared.port)


def test_upstream_servfail_expires_after_servfail_ttl(start_filterd, upstream: ScriptedUpstream):
    filterd = start_filterd(cache={"servfail_ttl": 1})
    name = unique("servfail-")
    assert rcode(ask(filterd.port, name)) == "SERVFAIL"
    time.sleep(1.5)
    assert rcode(ask(filterd.port, name)) == "SERVFAIL"
    assert len(upstream.queries_for(name)) == 2, "a SERVFAIL must not be kept past 1 s"
    assert_still_serving(filterd.port)


# ------------------------------------------------------------------------- coalescing


def test_identical_concurrent_queries_coalesced(shared: FilterdProcess, upstream: ScriptedUpstream):
    name = unique("slow300-")
    asked = [name.upper() if i % 2 else name for i in range(20)]  # case does not split them
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(20)]
    try:
        queries = [make_query(n) for n in asked]
        for sock, query in zip(sockets, queries, strict=True):
            sock.sendto(query.pack(), ("127.0.0.1", shared.port))
        replies = []
        for sock, query in zip(sockets, queries, strict=True):
            sock.settimeout(3)
            reply = DNSRecord.parse(sock.recv(65535))
            assert reply.header.id == query.header.id
            replies.append(reply)
    finally:
        for sock in sockets:
            sock.close()
    assert len(replies) == 20
    assert all(addresses(r) == [default_a(name)] for r in replies)
    assert [str(r.q.qname) for r in replies] == [f"{n}." for n in asked], "question echoed"
    assert len(upstream.queries_for(name)) == 1, "identical questions must share one query"


# --------------------------------------------------------------------------- failover


def test_failover_to_second_upstream_and_backoff(start_filterd, upstream: ScriptedUpstream):
    with ScriptedUpstream() as first:
        filterd = start_filterd(upstreams=[first.addr, upstream.addr])
        first.stop()  # gone: its port is silent (no ICMP error reaches an unconnected socket)
        latencies = []
        for _ in range(3):
            name = unique("failover-")
            reply, elapsed = timed_ask(filterd.port, name)
            assert rcode(reply) == "NOERROR"
            assert addresses(reply) == [default_a(name)], "answer must come from the second"
            assert len(upstream.queries_for(name)) == 1
            assert elapsed < 2 * UPSTREAM_TIMEOUT + 0.3
            latencies.append(elapsed)
        assert min(latencies) >= UPSTREAM_TIMEOUT * 0.8, (
            "the first upstream was tried first each time"
        )
        # Three failures in a row put the dead upstream into backoff: answers are fast now.
        name = unique("failover-")
        reply, elapsed = timed_ask(filterd.port, name)
        assert addresses(reply) == [default_a(name)]
        assert elapsed < 0.2, f"dead upstream in backoff, yet the answer took {elapsed:.2f} s"
        assert filterd.metric("filterd_upstream_up", upstream=first.addr) == 0
        assert filterd.metric("filterd_upstream_up", upstream=upstream.addr) == 1
        assert filterd.metric("filterd_upstream_errors_total", upstream=first.addr) >= 3

        # Back on the same port: once its backoff ends it is preferred again.
        first.start()
        deadline = time.monotonic() + 15
        name = unique("failback-")
        while time.monotonic() < deadline:
            name = unique("failback-")
            assert addresses(ask(filterd.port, name)) == [default_a(name)]
            if first.queries_for(name):
                break
            time.sleep(0.2)
        assert first.queries_for(name), "the first upstream was not used again"
        assert not upstream.queries_for(name)
        later = unique("failback-")
        assert addresses(ask(filterd.port, later)) == [default_a(later)]
        assert len(first.queries_for(later)) == 1
        assert not upstream.queries_for(later)
        assert filterd.metric("filterd_upstream_up", upstream=first.addr) == 1
        assert_still_serving(filterd.port)


def test_upstream_order_respected_when_healthy(start_filterd, upstream: ScriptedUpstream):
    with ScriptedUpstream() as second:
        filterd = start_filterd(upstreams=[upstream.addr, second.addr])
        names = [unique("order-") for _ in range(5)]
        for name in names:
            assert addresses(ask(filterd.port, name)) == [default_a(name)]
        for name in names:
            assert len(upstream.queries_for(name)) == 1, "the first upstream is preferred"
        assert second.queries() == [], "the second upstream is only for failover"
        assert_still_serving(filterd.port)


# ----------------------------------------------------------------- random IDs and ports


def test_upstream_queries_use_random_ids_and_ports(start_filterd):
    with HandlerUpstream(answer_192_0_2_1) as recorder:
        filterd = start_filterd(upstreams=[recorder.addr])
        for _ in range(20):
            assert addresses(ask(filterd.port, unique("random-"))) == ["192.0.2.1"]
        seen = list(recorder.seen)
    assert len(seen) >= 20
    ids = [qid for qid, _ in seen]
    ports = [port for _, port in seen]
    assert len(set(ids)) >= 19, f"query IDs repeat: {ids}"
    steps = {(b - a) & 0xFFFF for a, b in itertools.pairwise(ids)}
    assert len(steps) > 3, f"query IDs look sequential: {ids}"
    assert len(set(ports)) >= 19, f"source ports repeat: {ports}"
    port_steps = {(b - a) & 0xFFFF for a, b in itertools.pairwise(ports)}
    assert len(port_steps) > 3, f"source ports look sequential: {ports}"


# ------------------------------------------------------------------------------ DO bit


def test_do_bit_cached_separately(shared: FilterdProcess, upstream: ScriptedUpstream):
    name = unique("dobit-")
    with_do = ask(shared.port, name, do=True)
    without = ask(shared.port, name)
    assert addresses(with_do) == addresses(without) == [default_a(name)]
    sent = upstream.queries_for(name)
    assert sorted(q["do"] for q in sent) == [False, True], "each variant must reach upstream"

    again_do = ask(shared.port, name, do=True)
    again = ask(shared.port, name)
    assert addresses(again_do) == addresses(again) == [default_a(name)]
    assert len(upstream.queries_for(name)) == 2, "both variants are cached"
    opt = [rr for rr in again_do.ar if rr.rtype == QTYPE.OPT]
    assert opt and opt[0].ttl & 0x8000, "DO is echoed to a client that set it"
    assert not any(rr.rtype == QTYPE.OPT for rr in again.ar), "no OPT for a client without EDNS"


# --- upstream limits and failover (found in review of the forwarder core) -----------------


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
