"""Conformance, "Answers from upstream" (items 16-22 of dns-conformance.md), end to end.

Every test talks to a real filterd process over loopback, which forwards to scripted upstream
processes (or small in-test loopback upstreams), and checks what a user would notice:
the answer code, the records, how long it took, and what the query log and metrics say.
"""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from dnslib import CNAME, HTTPS, QTYPE, RCODE, RR, A, DNSRecord

from tests.support.dns_client import addresses, ask, assert_still_serving, rcode, timed_ask
from tests.support.filterd_process import UPSTREAM_TIMEOUT, FilterdProcess, wait_for
from tests.support.handler_upstream import HandlerUpstream
from tests.support.names import unique
from tests.support.query_log import logged
from tests.support.scripted_upstream import EVIL_IP, default_a
from tests.support.upstream_process import ScriptedUpstream

# ---------------------------------------------------------------------------------- helpers


def all_records(reply: DNSRecord) -> list:
    return [*reply.rr, *reply.auth, *reply.ar]


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A loopback UDP port that receives queries and never answers: a silent upstream."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{sock.getsockname()[1]}"


# ------------------------------------------------------------- 16: silent upstream, stale


def reasons(db_path, name: str, count: int = 1) -> list[str]:
    """Reasons logged for `name`, oldest first, once `count` are written (<= 5 s)."""
    return [row[0] for row in logged(db_path, name, "reason", count=count, timeout=5)]


def test_16_silent_upstream_gives_servfail_not_nxdomain(
    start_filterd, upstream: ScriptedUpstream, black_hole: str
):
    # Two attempts, both silent: the scripted upstream for "silent-", then a black hole.
    filterd = start_filterd(upstreams=[upstream.addr, black_hole])
    name = unique("silent-")
    reply, elapsed = timed_ask(filterd.port, name)
    assert reply is not None, "no answer at all for a silent upstream"
    assert rcode(reply) == "SERVFAIL"
    assert elapsed < 2.5, f"SERVFAIL took {elapsed:.2f} s"
    assert elapsed >= UPSTREAM_TIMEOUT * 0.8, "answered before the upstream could have timed out"
    assert not reply.rr
    assert len(upstream.queries_for(name)) == 1
    assert reasons(filterd.db_path, name) == ["no_upstream"]
    assert_still_serving(filterd.port)


def test_16_serve_stale_when_upstream_goes_down(start_filterd):
    with ScriptedUpstream() as own:
        filterd = start_filterd(upstreams=[own.addr])
        name = unique("ttl1-")
        fresh = ask(filterd.port, name)
        assert rcode(fresh) == "NOERROR"
        assert addresses(fresh) == [default_a(name)]
        assert fresh.rr[0].ttl <= 1

        own.stop()
        time.sleep(1.2)  # the entry has expired (TTL 1, whole seconds)
        stale, elapsed = timed_ask(filterd.port, name)
        assert stale is not None, "no answer while the upstream is down"
        assert rcode(stale) == "NOERROR", "an expired answer must be served when upstreams fail"
        assert addresses(stale) == [default_a(name)]
        assert [rr.ttl for rr in stale.rr] == [30], "stale answers carry TTL 30 (RFC 8767)"
        assert elapsed < 2.5
        assert filterd.metric("filterd_queries_total", reason="stale") >= 1
        assert reasons(filterd.db_path, name, count=2)[-1] == "stale"

        own.start()
        assert_still_serving(filterd.port)


@pytest.mark.parametrize("stale_max_age", [86400, 0])
def test_16_serve_stale_when_upstream_answers_servfail(start_filterd, stale_max_age: int):
    mode = {"rcode": RCODE.NOERROR}

    def handler(query: DNSRecord) -> DNSRecord:
        reply = query.reply()
        reply.header.aa = 0
        reply.header.rcode = mode["rcode"]
        if mode["rcode"] == RCODE.NOERROR:
            reply.add_answer(RR(query.q.qname, QTYPE.A, ttl=1, rdata=A("192.0.2.7")))
        return reply

    with HandlerUpstream(handler) as own:
        filterd = start_filterd(upstreams=[own.addr], cache={"stale_max_age": stale_max_age})
        name = unique("flaky-")
        assert addresses(ask(filterd.port, name)) == ["192.0.2.7"]
        mode["rcode"] = RCODE.SERVFAIL
        time.sleep(1.2)  # expired
        reply = ask(filterd.port, name)
        assert own.asked.count(name) == 2, "an expired answer must be refreshed first"
        if stale_max_age:
            assert rcode(reply) == "NOERROR", "upstream SERVFAIL: serve the stale answer"
            assert addresses(reply) == ["192.0.2.7"]
            assert [rr.ttl for rr in reply.rr] == [30]
            assert reasons(filterd.db_path, name, count=2)[-1] == "stale"
        else:
            assert rcode(reply) == "SERVFAIL", "stale_max_age 0 turns serve-stale off"
            assert not reply.rr
        mode["rcode"] = RCODE.NOERROR
        assert addresses(ask(filterd.port, unique("after-"))) == ["192.0.2.7"]


# ------------------------------------------------------------------- 17: forged replies

FORGED_KINDS = ["id", "port", "name", "case", "type", "qr0"]


@pytest.mark.parametrize("kind", FORGED_KINDS)
def test_17_forged_reply_ignored_and_counted(
    shared: FilterdProcess, upstream: ScriptedUpstream, kind: str
):
    name = unique(f"forged-{kind}-")
    forged_before = shared.metric("filterd_upstream_errors_total", kind="forged")
    reply = ask(shared.port, name)
    assert rcode(reply) == "NOERROR"
    assert EVIL_IP not in addresses(reply), f"forged ({kind}) reply was accepted"
    assert addresses(reply) == [default_a(name)], "the genuine reply must be accepted"
    assert shared.metric("filterd_upstream_errors_total", kind="forged") > forged_before, (
        f"forged ({kind}) packet was not counted"
    )

    cached = ask(shared.port, name)
    assert EVIL_IP not in addresses(cached)
    assert addresses(cached) == [default_a(name)]
    assert len(upstream.queries_for(name)) == 1, "second answer should come from the cache"
    assert_still_serving(shared.port)


@pytest.mark.parametrize("written", ["[::1]", "[0:0:0:0:0:0:0:1]"])
def test_17_genuine_reply_accepted_whatever_the_address_spelling(start_filterd, written: str):
    # The genuine reply comes from the configured upstream; how its address is spelled in
    # the config (both forms are valid IPv6 and accepted by the config check) must not matter.
    with ScriptedUpstream(host="::1") as v6:
        filterd = start_filterd(upstreams=[f"{written}:{v6.port}"])
        name = unique("v6-")
        reply = ask(filterd.port, name)
        assert len(v6.queries_for(name)) == 1
        assert rcode(reply) == "NOERROR", (
            f"upstream {written}:{v6.port} answered, but filterd replied {rcode(reply)}"
        )
        assert addresses(reply) == [default_a(name)]
        assert filterd.metric("filterd_upstream_errors_total", kind="forged") == 0


# ----------------------------------------------------------------------- 18: bailiwick


def test_18_out_of_bailiwick_records_stripped(shared: FilterdProcess, upstream: ScriptedUpstream):
    name = unique("bailiwick-")
    stripped_before = shared.metric("filterd_bailiwick_stripped_records_total")
    for attempt in ("upstream", "cache"):
        reply = ask(shared.port, name)
        assert rcode(reply) == "NOERROR", attempt
        assert addresses(reply) == [default_a(name)], attempt
        owners = {str(rr.rname).lower() for rr in all_records(reply) if rr.rtype != QTYPE.OPT}
        assert "bank.example." not in owners, f"bank.example record in the answer ({attempt})"
        assert "ns.evil.example." not in owners, f"ns.evil.example record ({attempt})"
        assert EVIL_IP not in {str(rr.rdata) for rr in all_records(reply)}, attempt
    assert len(upstream.queries_for(name)) == 1
    assert shared.metric("filterd_bailiwick_stripped_records_total") >= stripped_before + 4
    assert_still_serving(shared.port)


# ----------------------------------------------------------------------- 19: rebinding

REBIND_KINDS = {
    "rfc1918": "A",
    "loopback": "A",
    "linklocal": "A",
    "zero": "A",
    "home": "A",
    "ula": "AAAA",
    "v6loop": "AAAA",
    "v6ll": "AAAA",
    "mapped": "AAAA",
    "hint": "HTTPS",
    "nat64": "AAAA",
    "sixtofour": "AAAA",
    "v4compat": "AAAA",
    "broadcast": "A",
    "multicast": "A",
    "benchmark": "A",
    "sitelocal": "AAAA",
}


@pytest.mark.parametrize(("kind", "qtype"), REBIND_KINDS.items())
def test_19_rebinding_answer_is_emptied(shared: FilterdProcess, kind: str, qtype: str):
    name = unique(f"rebind-{kind}-")
    reply = ask(shared.port, name, qtype)
    assert rcode(reply) == "NOERROR"
    assert not reply.rr, f"{name} {qtype} leaked an inside address: {reply.rr}"
    assert not reply.ar or all(rr.rtype == QTYPE.OPT for rr in reply.ar)
    assert reasons(shared.db_path, name) == ["rebinding"]
    assert_still_serving(shared.port)


def test_19_rebinding_allowed_under_default_zone(shared: FilterdProcess):
    name = unique("rebind-rfc1918-", zone="lan")
    reply = ask(shared.port, name)
    assert rcode(reply) == "NOERROR"
    assert addresses(reply) == ["10.1.2.3"]
    ula = ask(shared.port, unique("rebind-ula-", zone="home.arpa"), "AAAA")
    assert addresses(ula) == ["fd00::1"]


def test_19_rebinding_allow_list_from_config(start_filterd):
    filterd = start_filterd(rebinding={"allow": ["test"]})
    allowed = ask(filterd.port, unique("rebind-rfc1918-", zone="printer.test"))
    assert addresses(allowed) == ["10.1.2.3"], "a name under an allowed domain keeps its address"
    public = ask(filterd.port, unique("rebind-rfc1918-"))
    assert rcode(public) == "NOERROR"
    assert not public.rr, "other names are still protected"
    assert_still_serving(filterd.port)


def test_19_rebinding_protection_off(start_filterd):
    filterd = start_filterd(rebinding={"protect": False})
    reply = ask(filterd.port, unique("rebind-loopback-"))
    assert addresses(reply) == ["127.0.0.1"]
    v6 = ask(filterd.port, unique("rebind-ula-"), "AAAA")
    assert addresses(v6) == ["fd00::1"]
    assert_still_serving(filterd.port)


def handmade_answers(query: DNSRecord) -> DNSRecord:
    """Answers the scripted upstream cannot give, chosen by the first label's prefix."""
    qname = query.q.qname
    label = str(qname).split(".")[0]
    reply = query.reply()
    reply.header.aa = 0
    if label.startswith("hint6-"):
        ula = ipaddress.IPv6Address("fd00::1").packed
        reply.add_answer(RR(qname, QTYPE.HTTPS, ttl=300, rdata=HTTPS(1, [], [(6, ula)])))
    elif label.startswith("viaplex-"):
        # What a recursive resolver returns for a public name CNAMEd to *.plex.direct, whose
        # public wildcard maps 10-0-0-1.anything.plex.direct to 10.0.0.1.
        target = f"10-0-0-1.{label}.plex.direct"
        reply.add_answer(RR(qname, QTYPE.CNAME, ttl=300, rdata=CNAME(target)))
        reply.add_answer(RR(target, QTYPE.A, ttl=300, rdata=A("10.0.0.1")))
    elif label.startswith("tolan-"):
        target = f"{label}.lan"
        reply.add_answer(RR(qname, QTYPE.CNAME, ttl=300, rdata=CNAME(target)))
        reply.add_answer(RR(target, QTYPE.A, ttl=300, rdata=A("192.168.1.20")))
    return reply


def test_19_rebinding_ipv6hint_emptied(start_filterd):
    with HandlerUpstream(handmade_answers) as own:
        filterd = start_filterd(upstreams=[own.addr])
        name = unique("hint6-")
        hint = ask(filterd.port, name, "HTTPS")
        assert rcode(hint) == "NOERROR"
        assert not hint.rr, f"an ipv6hint inside the home leaked: {hint.rr}"
        assert reasons(filterd.db_path, name) == ["rebinding"]


@pytest.mark.parametrize("prefix", ["viaplex-", "tolan-"])
def test_19_rebinding_not_bypassed_by_cname_into_allowed_domain(start_filterd, prefix: str):
    # The allow list exempts names the user asked about (under plex.direct, lan...), not any
    # public name whose CNAME chain passes through such a domain.
    with HandlerUpstream(handmade_answers) as own:
        filterd = start_filterd(upstreams=[own.addr])
        name = unique(prefix)
        reply = ask(filterd.port, name)
        assert rcode(reply) == "NOERROR"
        leaked = [str(rr.rdata) for rr in reply.rr if rr.rtype == QTYPE.A]
        assert not reply.rr, (
            f"public name {name} (not allowed) got inside address {leaked} through a CNAME "
            "into an allowed domain"
        )
        assert reasons(filterd.db_path, name) == ["rebinding"]


# ------------------------------------------------------------------ 20: broken upstream TCP


@pytest.mark.parametrize("prefix", ["tcpclose-", "tcponebyte-"])
def test_20_broken_tcp_answer_gives_servfail_in_time(filterd: FilterdProcess, prefix: str):
    name = unique(prefix)
    reply, elapsed = timed_ask(filterd.port, name)
    assert reply is not None
    assert rcode(reply) == "SERVFAIL"
    assert elapsed < 2 * UPSTREAM_TIMEOUT + 0.3, f"SERVFAIL took {elapsed:.2f} s"
    assert filterd.metric("filterd_upstream_errors_total") >= 1
    assert_still_serving(filterd.port)


@pytest.mark.parametrize("prefix", ["tcpclose-", "tcponebyte-"])
def test_20_broken_tcp_answer_does_not_spin(start_filterd, prefix: str):
    # A longer timeout keeps the one-byte exchange open across the whole measuring window.
    timeout = 2.0
    filterd = start_filterd(upstream_timeout=timeout)
    assert filterd.proc is not None
    name = unique(prefix)
    result: dict[str, object] = {}

    def client() -> None:
        result["reply"], result["elapsed"] = timed_ask(filterd.port, name, timeout=5)

    thread = threading.Thread(target=client)
    thread.start()
    time.sleep(0.2)
    before = cpu_seconds(filterd.proc.pid)
    time.sleep(1.0)
    used = cpu_seconds(filterd.proc.pid) - before
    thread.join(timeout=6)
    assert not thread.is_alive()
    assert used < 0.25, f"filterd used {used:.2f} s of CPU in 1 s with a broken upstream"
    assert rcode(result["reply"]) == "SERVFAIL"
    assert result["elapsed"] < timeout + 0.5
    assert_still_serving(filterd.port)


# --------------------------------------------------------------- 21: truncation, malformed


def test_21_truncated_udp_answer_retried_over_tcp(
    shared: FilterdProcess, upstream: ScriptedUpstream
):
    name = unique("tc-")
    full = [f"198.51.100.{i}" for i in (1, 2, 3)]
    reply = ask(shared.port, name)
    assert rcode(reply) == "NOERROR"
    assert not reply.header.tc
    assert sorted(addresses(reply)) == full
    transports = [q["transport"] for q in upstream.queries_for(name)]
    assert transports == ["udp", "tcp"], transports

    cached = ask(shared.port, name)
    assert sorted(addresses(cached)) == full, "the truncated answer must not be cached"
    assert len(upstream.queries_for(name)) == 2, "second answer should come from the cache"
    assert_still_serving(shared.port)


def test_21_large_answer_over_tcp_client(shared: FilterdProcess, upstream: ScriptedUpstream):
    name = unique("big-")
    reply = ask(shared.port, name, tcp=True)
    assert rcode(reply) == "NOERROR"
    assert len(addresses(reply)) == 100
    assert "tcp" in [q["transport"] for q in upstream.queries_for(name)]
    udp = ask(shared.port, name)
    assert udp.header.tc, "100 records do not fit a 512-byte UDP answer"


def test_21_malformed_upstream_answer_gives_servfail(
    shared: FilterdProcess, upstream: ScriptedUpstream
):
    name = unique("malformed-")
    before = shared.metric("filterd_upstream_errors_total", kind="malformed")
    reply, elapsed = timed_ask(shared.port, name)
    assert reply is not None
    assert rcode(reply) == "SERVFAIL"
    assert not reply.rr
    assert elapsed < 2 * UPSTREAM_TIMEOUT + 0.3
    assert shared.metric("filterd_upstream_errors_total", kind="malformed") == before + 1
    assert_still_serving(shared.port)


# ------------------------------------------------------------- 22: all upstreams down


def test_22_all_upstreams_down_fast_servfail_then_recovery(start_filterd):
    with ScriptedUpstream() as first, ScriptedUpstream() as second:
        upstreams = [first.addr, second.addr]
        filterd = start_filterd(upstreams=upstreams)
        assert_still_serving(filterd.port)
        first.stop()
        second.stop()

        # Cold cache, nobody answers: the first questions cost the timeouts; once both
        # upstreams are in backoff, SERVFAIL comes back at once.
        fast_in_a_row = 0
        both_shown_down = False
        deadline = time.monotonic() + 8
        while fast_in_a_row < 3 and time.monotonic() < deadline:
            reply, elapsed = timed_ask(filterd.port, unique("down-"))
            assert rcode(reply) == "SERVFAIL", "never NXDOMAIN or silence when upstreams are down"
            assert elapsed < 2 * UPSTREAM_TIMEOUT + 0.5, f"SERVFAIL took {elapsed:.2f} s"
            fast_in_a_row = fast_in_a_row + 1 if elapsed < 0.1 else 0
            if fast_in_a_row:
                up = [filterd.metric("filterd_upstream_up", upstream=a) for a in upstreams]
                both_shown_down = both_shown_down or up == [0, 0]
        assert fast_in_a_row == 3, "SERVFAIL never became fast with every upstream down"
        assert both_shown_down, "filterd_upstream_up never showed both upstreams in backoff"

        second.start()  # same port as before
        deadline = time.monotonic() + 15
        name = unique("back-")
        reply = None
        while time.monotonic() < deadline:
            reply = ask(filterd.port, name)
            if rcode(reply) == "NOERROR":
                break
            time.sleep(0.2)
        assert rcode(reply) == "NOERROR", "service did not recover once an upstream returned"
        assert addresses(reply) == [default_a(name)]
        assert_still_serving(filterd.port)


# --- TTL high bit and rebinding reload (found in review of the forwarder core) -----------


def answer_with_high_bit_ttl(query: DNSRecord) -> DNSRecord:
    reply = query.reply()
    reply.add_answer(RR(query.q.qname, QTYPE.A, ttl=0xFFFFFFFF, rdata=A("192.0.2.7")))
    return reply


def test_ttl_with_the_high_bit_set_is_treated_as_zero(start_filterd):
    """dns/records.py _decode_record masks the TTL to 0x7FFFFFFF; RFC 2181 s.8 says treat as 0."""
    with HandlerUpstream(answer_with_high_bit_ttl) as own:
        filterd = start_filterd(upstreams=[own.addr])
        name = unique("msbttl-")
        first = ask(filterd.port, name)
        assert addresses(first) == ["192.0.2.7"]
        assert first.rr[0].ttl == 0, f"TTL 0xFFFFFFFF was served as {first.rr[0].ttl} s"
        ask(filterd.port, name)
        assert own.asked.count(name) == 2, "an answer with TTL 0 must not be cached"


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
