"""Admission stages, each alone above a fake next stage: who is served, what is refused,
what is dropped, and what a UDP client too small for the answer gets."""

from __future__ import annotations

import asyncio
import ipaddress

from dnslib import EDNS0, DNSRecord

from filterd.dns.query import Reason, Reply, Transport
from filterd.dns.wire import FORMERR, REFUSED
from filterd.selftest.marker import OwnProbe, option
from filterd.serve.acl import ClientAcl
from filterd.serve.admission import (
    MAX_QUEUED_PER_CLIENT,
    MAX_WAITING_PER_CLIENT,
    OUTSIDERS,
    AccessControl,
    Parse,
    RateLimit,
    RefuseOutsiders,
    Truncate,
    WaitingCap,
)
from filterd.serve.metrics import ServeCounters
from filterd.serve.ratelimit import RateLimiter
from filterd.serve.settings import DEFAULT_ALLOW
from tests.support.stages import MovableClock, NextStage, packet, query_of, reply_to, settle

HOME = ClientAcl(ipaddress.ip_network(n) for n in DEFAULT_ALLOW)


def recorder(answer: bytes | None = b"answer"):
    seen: list[tuple] = []

    def stage(*args):
        seen.append(args)
        return answer

    return stage, seen


def test_access_control_sends_insiders_and_outsiders_down_different_paths():
    inside, went_in = recorder(b"in")
    outside, went_out = recorder(b"out")
    stage = AccessControl(HOME, inside, outside)
    assert stage(b"q", "192.168.1.20", Transport.UDP) == b"in"
    assert stage(b"q", "203.0.113.9", Transport.UDP) == b"out"
    assert stage(b"q", "::ffff:10.0.0.5", Transport.TCP) == b"in"  # v4-mapped is the v4 home
    assert [call[1] for call in went_in] == ["192.168.1.20", "::ffff:10.0.0.5"]
    assert [call[1] for call in went_out] == ["203.0.113.9"]


def test_access_control_follows_a_reloaded_allow_list():
    acl = ClientAcl([ipaddress.ip_network("192.168.1.0/24")])
    stage = AccessControl(acl, recorder(b"in")[0], recorder(b"out")[0])
    assert stage(b"q", "10.0.0.5", Transport.UDP) == b"out"
    acl.configure([ipaddress.ip_network("10.0.0.0/8")])
    assert stage(b"q", "10.0.0.5", Transport.UDP) == b"in"


def test_rate_limit_drops_past_the_burst_and_refills_with_time():
    clock, metrics = MovableClock(), ServeCounters()
    below, seen = recorder()
    stage = RateLimit(below, RateLimiter(rate=10, burst=5), metrics, clock)
    answers = [stage(b"q", "192.168.1.20", Transport.UDP) for _ in range(8)]
    assert answers == [b"answer"] * 5 + [None] * 3
    assert stage(b"q", "192.168.1.21", Transport.UDP) == b"answer"  # its own bucket
    clock.advance(0.1)  # one token back
    assert stage(b"q", "192.168.1.20", Transport.UDP) == b"answer"
    assert stage(b"q", "192.168.1.20", Transport.UDP) is None
    assert metrics.dropped["rate_limited"] == 4
    assert len(seen) == 7


def test_outsiders_share_one_bucket_whatever_address_they_claim():
    metrics = ServeCounters()
    stage = RateLimit(
        recorder()[0], RateLimiter(rate=1, burst=3), metrics, MovableClock(), OUTSIDERS
    )
    answers = [stage(b"q", f"203.0.113.{i}", Transport.UDP) for i in range(6)]
    assert answers == [b"answer"] * 3 + [None] * 3


def test_a_rate_of_zero_lets_everything_through():
    stage = RateLimit(recorder()[0], RateLimiter(rate=0, burst=1), ServeCounters(), MovableClock())
    assert all(stage(b"q", "192.168.1.20", Transport.UDP) for _ in range(100))


def test_an_outsider_gets_refused_for_a_question_and_nothing_for_garbage():
    metrics = ServeCounters()
    stage = RefuseOutsiders(metrics)
    answer = DNSRecord.parse(stage(packet("example.com"), "203.0.113.9", Transport.UDP))
    assert answer.header.rcode == REFUSED and str(answer.q.qname) == "example.com."
    bad = bytearray(packet("example.com"))
    bad[5] = 2  # two questions: a FORMERR for an insider, silence for an outsider
    assert stage(bytes(bad), "203.0.113.9", Transport.UDP) is None
    assert stage(b"\x00\x01", "203.0.113.9", Transport.UDP) is None  # shorter than a header
    assert metrics.dropped == {"refused_client": 2, "not_a_query": 1}


def test_parse_turns_bytes_into_one_query_with_its_cache_key_and_size_limit():
    seen: list = []
    clock = MovableClock(mono=42.0)
    stage = Parse(lambda q: seen.append(q) or b"answer", ServeCounters(), clock)
    assert stage(packet("WWW.Example.COM", "AAAA"), "192.168.1.20", Transport.UDP) == b"answer"
    stage(packet("example.com", edns=True, do=True, bufsize=4096), "::1", Transport.UDP)
    stage(packet("example.com"), "::1", Transport.TCP)
    plain, edns, tcp = seen
    assert plain.qname == b"\x03www\x07example\x03com\x00"  # lower case for lookups
    assert b"WWW" in plain.question  # as received, echoed in the answer
    assert (plain.qtype, plain.client, plain.received, plain.max_size) == (
        28,
        "192.168.1.20",
        42.0,
        512,
    )
    assert edns.edns.do and edns.max_size == 1232  # EDNS size capped against fragmentation
    assert edns.key != query_of("example.com").key  # DO answers are cached apart
    assert tcp.max_size == 65535


def test_parse_answers_a_malformed_query_itself_and_passes_nothing_down():
    metrics = ServeCounters()
    below = NextStage()
    stage = Parse(below, metrics, MovableClock())
    bad = bytearray(packet("example.com"))
    bad[5] = 2  # qdcount 2
    answer = DNSRecord.parse(stage(bytes(bad), "192.168.1.20", Transport.UDP))
    assert answer.header.rcode == FORMERR
    response = bytearray(packet("example.com"))
    response[2] |= 0x80  # QR: a response sent as a query gets nothing
    assert stage(bytes(response), "192.168.1.20", Transport.UDP) is None
    assert below.seen == []
    assert sum(metrics.malformed.values()) == 1 and metrics.dropped["not_a_query"] == 1


def test_truncate_gives_a_udp_client_a_tc_stub_and_keeps_the_whole_answer_for_tcp():
    big = NextStage(answer=lambda q: reply_to(q, size=900))
    udp = query_of("big.example")
    stub = DNSRecord.parse(Truncate(big)(udp))
    assert stub.header.tc == 1 and stub.rr == [] and str(stub.q.qname) == "big.example."
    tcp = query_of("big.example", transport=Transport.TCP)
    whole = DNSRecord.parse(Truncate(big)(tcp))
    assert whole.header.tc == 0 and len(whole.rr) > 1
    small = Truncate(NextStage(later=True))(query_of("small.example"))
    assert DNSRecord.parse(settle(small)).header.tc == 0  # an awaited answer is fitted too


def test_waiting_cap_resolves_a_clients_share_queues_the_rest_and_drops_past_the_queue():
    metrics = ServeCounters()

    async def scenario():
        release = asyncio.Event()
        started: list[str] = []

        class Slow:
            """A cache miss: runs (and is counted) only once it is awaited."""

            def __init__(self, query):
                self.query = query

            def __await__(self):
                started.append(self.query.client)
                yield from release.wait().__await__()
                return reply_to(self.query)

        def slow(query):
            return Slow(query)

        cap = WaitingCap(metrics)
        stage = Truncate(slow, cap)  # as build_chain wires them: every answer here must wait
        greedy = query_of("slow.example", client="192.168.1.20")
        resolving = [asyncio.ensure_future(stage(greedy)) for _ in range(MAX_WAITING_PER_CLIENT)]
        queued = [asyncio.ensure_future(stage(greedy)) for _ in range(MAX_QUEUED_PER_CLIENT)]
        assert stage(greedy) is None  # past the queue: dropped, and nothing below ran for it
        other = asyncio.ensure_future(stage(query_of("slow.example", client="192.168.1.21")))
        await asyncio.sleep(0.01)
        # The greedy client holds its share; the queued wait; another client is not held up.
        assert started.count("192.168.1.20") == MAX_WAITING_PER_CLIENT
        assert started.count("192.168.1.21") == 1
        release.set()
        answers = await asyncio.gather(*resolving, *queued, other)
        assert len(answers) == MAX_WAITING_PER_CLIENT + MAX_QUEUED_PER_CLIENT + 1
        assert all(DNSRecord.parse(a).q.qname == "slow.example." for a in answers)
        assert cap.waiting == {} and cap.queued == {}

    asyncio.run(scenario())
    assert metrics.dropped["too_many_waiting"] == 1
    cap = WaitingCap(metrics)
    instant = Truncate(NextStage(), cap)  # a reply ready at once never meets the cap
    assert type(instant(query_of("fast.example"))) is bytes and cap.waiting == {}


def test_a_reply_that_is_a_reply_keeps_the_hot_path_synchronous():
    answer = Truncate(NextStage())(query_of("example.com"))
    assert type(answer) is bytes
    assert isinstance(NextStage()(query_of("example.com")), Reply)
    assert NextStage()(query_of("example.com")).reason is Reason.FORWARDED


def test_a_name_asked_before_is_read_the_same_and_still_refused_when_cut_short():
    seen: list = []
    stage = Parse(lambda q: seen.append(q) or b"answer", ServeCounters(), MovableClock())
    whole = packet("www.example.com")
    for _ in range(2):  # the second time the name is known: the same query comes out
        assert stage(whole, "192.168.1.20", Transport.UDP) == b"answer"
    assert seen[0] == seen[1] and seen[0].qname == b"\x03www\x07example\x03com\x00"
    cut = DNSRecord.parse(stage(whole[:-2], "192.168.1.20", Transport.UDP))
    assert cut.header.rcode == FORMERR  # the known name, but its class cut off
    # A zero byte inside a label is not the end of the name, however often it is asked.
    odd = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03a\x00b\x03com\x00\x00\x01\x00\x01"
    for _ in range(2):
        assert stage(odd, "192.168.1.20", Transport.UDP) == b"answer"
    assert seen[-1].qname == seen[-2].qname == b"\x03a\x00b\x03com\x00"
    assert seen[-1].question == odd[12:]


def test_a_rate_limit_turned_on_or_off_by_a_reload_applies_at_once():
    """With the limit off, access control hands insiders straight to the stage below (no
    call for a limit that is not there); a reload that sets one must start dropping at once,
    and one that turns it off again must stop."""
    limiter, metrics, clock = RateLimiter(rate=0, burst=1), ServeCounters(), MovableClock()
    below, seen = recorder()
    limit = RateLimit(below, limiter, metrics, clock)
    stage = AccessControl(HOME, limit.__call__, recorder(b"out")[0])
    limit.left_out_while_off(stage)
    assert all(stage(b"q", "192.168.1.20", Transport.UDP) for _ in range(20))
    limiter.configure(10, 5)  # SIGHUP with rate_limit: {queries_per_second: 10, burst: 5}
    answers = [stage(b"q", "192.168.1.20", Transport.UDP) for _ in range(8)]
    assert answers == [b"answer"] * 5 + [None] * 3
    assert metrics.dropped["rate_limited"] == 3
    limiter.configure(0, 5)
    assert all(stage(b"q", "192.168.1.20", Transport.UDP) for _ in range(20))
    assert len(seen) == 45


def test_only_the_self_tests_own_questions_are_marked_for_the_log_to_skip(tmp_path):
    """Marked: from loopback, with EDNS carrying this start's secret. Not: the same secret
    from a device, a loopback question without it, or its bytes outside EDNS."""
    probe = OwnProbe(tmp_path / "filterd.db")
    stage = Parse(lambda q: b"answer", ServeCounters(), MovableClock(), own_probe=probe)
    marked = DNSRecord.question("illegal-sample.example", "A")
    marked.add_ar(EDNS0(udp_len=1232, opts=[option(probe.secret)]))
    plain = DNSRecord.question("illegal-sample.example", "A")
    plain.add_ar(EDNS0(udp_len=1232))
    as_label = DNSRecord.question(f"{probe.secret.hex()}.example", "A")  # not the raw bytes
    raw = bytearray(packet("x" * 16 + ".example"))
    raw[13:29] = probe.secret  # the secret's bytes as a label, no EDNS
    for wire, client in [
        (bytes(marked.pack()), "127.0.0.1"),
        (bytes(marked.pack()), "192.168.1.20"),
        (bytes(plain.pack()), "127.0.0.1"),
        (bytes(as_label.pack()), "127.0.0.1"),
        (bytes(raw), "127.0.0.1"),
    ]:
        assert stage(wire, client, Transport.UDP) == b"answer"
    assert [q.client for q in probe.pending] == ["127.0.0.1"]
    assert [q.qname for q in probe.pending] == [b"\x0eillegal-sample\x07example\x00"]
