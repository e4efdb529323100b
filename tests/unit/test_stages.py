"""The stages below admission, each alone above a fake next stage (no process, no socket):
log, local answers, cache and upstream. Policy has its own file (test_policy_stage.py)."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path

from dnslib import QTYPE, RR, SOA, A, DNSRecord

from filterd.dns import query as query_module
from filterd.dns.query import Query, Reason, Reply
from filterd.dns.records import decode_message
from filterd.dns.wire import NOERROR, NXDOMAIN, REFUSED, SERVFAIL
from filterd.forward.cache import AnswerCache
from filterd.forward.cache_stage import CacheStage
from filterd.forward.metrics import ForwardCounters
from filterd.forward.settings import CacheLimits
from filterd.forward.upstream_stage import RebindingPolicy, UpstreamStage
from filterd.metrics import Metrics
from filterd.policy.box_names import BoxNames
from filterd.policy.local_answers import LocalAnswers
from filterd.querylog.log_stage import LogStage
from filterd.querylog.queue import QueryLog
from tests.support.stages import MovableClock, NextStage, query_of, reply_to, settle

ROOT = Path(__file__).resolve().parents[2]


# -- log ----------------------------------------------------------------------------------------


def test_the_log_stage_records_every_answer_once_and_never_a_helpline(tmp_path: Path):
    querylog = QueryLog(tmp_path / "filterd.db", 7, 1000, offered=lambda: 0)  # not started
    metrics, clock = Metrics(), MovableClock()
    below = NextStage()
    stage = LogStage(below, querylog, metrics, clock)
    stage(query_of("news.example", client="192.168.1.20", clock=clock))
    below.later = True
    settle(stage(query_of("late.example", clock=clock)))
    below.later, below.answer = False, lambda q: reply_to(q)._replace(reason=Reason.HELPLINE)
    stage(query_of("childline.example", clock=clock))
    logged = list(querylog._queue)
    assert [(e[1], e[2], e[5]) for e in logged] == [
        ("192.168.1.20", b"\x04news\x07example\x00", "forwarded"),
        ("127.0.0.1", b"\x04late\x07example\x00", "forwarded"),
    ]
    assert metrics.answers[(NOERROR, Reason.FORWARDED)] == 2
    assert metrics.answers[(NOERROR, Reason.HELPLINE)] == 1  # counted, not logged


# -- local answers ------------------------------------------------------------------------------


def test_local_answers_cover_any_canaries_private_reverse_and_other_classes():
    below = NextStage()
    stage = LocalAnswers(below)
    any_answer = DNSRecord.parse(stage(query_of("example.com", "ANY")).wire)
    assert QTYPE[any_answer.rr[0].rtype] == "HINFO"
    assert bytes(any_answer.rr[0].rdata.data) == b"\x07RFC8482\x00"
    assert stage(query_of("use-application-dns.net")).rcode == NXDOMAIN  # Firefox DoH canary
    assert stage(query_of("mask.icloud.com")).rcode == NXDOMAIN  # iCloud Private Relay
    assert stage(query_of("20.1.168.192.in-addr.arpa", "PTR")).rcode == NXDOMAIN
    chaos = DNSRecord.question("version.bind", "TXT", "CH")
    chaos_query = query_of("version.bind", "TXT")._replace(qclass=3, question=chaos.pack()[12:])
    assert stage(chaos_query).rcode == REFUSED
    assert stage(query_of("x.example", "ANY")).reason is Reason.LOCAL
    assert below.seen == []
    stage(query_of("8.8.8.8.in-addr.arpa", "PTR"))  # public reverse: asked upstream
    stage(query_of("news.example"))
    assert len(below.seen) == 2


def test_the_boxs_own_names_are_answered_locally_and_follow_a_reload():
    below = NextStage()
    box = BoxNames(["filterd.home.arpa"], ["192.168.1.2", "fd00::2"])
    stage = LocalAnswers(below, box)
    a = DNSRecord.parse(stage(query_of("FILTERD.home.arpa")).wire)
    assert [str(rr.rdata) for rr in a.rr] == ["192.168.1.2"] and a.rr[0].ttl == 60
    aaaa = DNSRecord.parse(stage(query_of("filterd.home.arpa", "AAAA")).wire)
    assert [str(rr.rdata) for rr in aaaa.rr] == ["fd00::2"]
    nodata = stage(query_of("filterd.home.arpa", "MX"))  # never upstream, even for MX
    assert nodata.rcode == 0 and DNSRecord.parse(nodata.wire).rr == []
    assert below.seen == []
    box.configure(["box.example.lan"], ["10.0.0.5"])
    stage(query_of("filterd.home.arpa"))  # no longer the box's: asked below
    moved = DNSRecord.parse(stage(query_of("box.example.lan")).wire)
    assert [str(rr.rdata) for rr in moved.rr] == ["10.0.0.5"] and len(below.seen) == 1


# -- cache ----------------------------------------------------------------------------------------


def upstream_stage(counters: ForwardCounters | None = None, protect: bool = True) -> UpstreamStage:
    policy = RebindingPolicy(protect, ())
    return UpstreamStage(None, CacheLimits(), policy, counters or ForwardCounters())  # type: ignore[arg-type]


def outcome_for(query: Query, address: str = "192.0.2.1", ttl: int = 300):
    wire = reply_to(query, address, ttl).wire
    return upstream_stage().clean(query.qname, decode_message(wire))


def test_the_cache_asks_once_for_identical_questions_and_then_answers_from_bytes():
    clock = MovableClock()
    asked: list[bytes] = []

    async def fetch(query: Query):
        asked.append(query.qname)
        await asyncio.sleep(0.01)
        return outcome_for(query)

    stage = CacheStage(AnswerCache(CacheLimits()), fetch, clock)

    async def two_at_once():
        first, second = stage(query_of("news.example")), stage(query_of("news.example"))
        return await asyncio.gather(first, second)

    first, second = asyncio.run(two_at_once())
    assert asked == [b"\x04news\x07example\x00"]  # one upstream exchange for both
    assert first.reason is second.reason is Reason.FORWARDED
    clock.advance(100)
    hit = stage(query_of("news.example", clock=clock))
    assert type(hit) is Reply and hit.reason is Reason.CACHED and hit.cached
    assert DNSRecord.parse(hit.wire).rr[0].ttl == 200  # counted down from 300


def test_a_hit_is_counted_and_kept_longest_and_a_cleared_cache_asks_again():
    """The cache stage reads the cache without a call: it must keep AnswerCache.get's
    contract (hits and misses counted, a hit moved to the LRU's end, expiry, a reload's
    clear())."""
    clock = MovableClock()
    asked: list[bytes] = []

    async def fetch(query: Query):
        asked.append(query.qname)
        return outcome_for(query, ttl=60)

    cache = AnswerCache(CacheLimits(max_entries=2))
    stage = CacheStage(cache, fetch, clock)

    def ask(name: str) -> Reply:
        return settle(stage(query_of(name, clock=clock)))

    for name in ("a.example", "b.example"):
        ask(name)
    assert ask("a.example").reason is Reason.CACHED  # a is now the most recently used
    ask("c.example")  # the cache holds two: b, the least recently used, goes
    assert ask("a.example").reason is Reason.CACHED
    assert ask("b.example").reason is Reason.FORWARDED
    assert (cache.hits, cache.misses) == (2, 4)
    clock.advance(61)  # expired: asked again, not answered from the cache
    assert ask("b.example").reason is Reason.FORWARDED
    cache.clear()  # as a reload that changes the cache's rules does
    assert ask("b.example").reason is Reason.FORWARDED
    assert len(asked) == 6 and (cache.hits, cache.misses) == (2, 6)


def test_the_cache_serves_stale_when_upstreams_fail_and_servfail_when_it_has_nothing():
    clock = MovableClock()
    failing = False

    async def fetch(query: Query):
        return None if failing else outcome_for(query, ttl=60)

    stage = CacheStage(AnswerCache(CacheLimits()), fetch, clock)
    settle(stage(query_of("news.example", clock=clock)))
    failing = True
    clock.advance(120)  # expired
    stale = settle(stage(query_of("news.example", clock=clock)))
    assert stale.reason is Reason.STALE and DNSRecord.parse(stale.wire).rr[0].ttl == 30
    nothing = settle(stage(query_of("never.example", clock=clock)))
    assert (nothing.rcode, nothing.reason) == (SERVFAIL, Reason.NO_UPSTREAM)


# -- upstream -------------------------------------------------------------------------------------


class FakeClient:
    """The upstream client's one method, answering with a prepared upstream message."""

    def __init__(self, answer: DNSRecord | None) -> None:
        self.answer = answer

    async def resolve(self, qname, qtype, qclass, do, cd):
        return None if self.answer is None else decode_message(bytes(self.answer.pack()))


def ask_upstream(answer: DNSRecord | None, counters: ForwardCounters | None = None):
    stage = upstream_stage(counters)
    stage.client = FakeClient(answer)  # type: ignore[assignment]
    return asyncio.run(stage(query_of(str(answer.q.qname) if answer else "x.example")))


def test_the_upstream_stage_refuses_a_public_name_pointing_into_the_home():
    answer = DNSRecord.question("evil.example").reply()
    answer.add_answer(RR("evil.example", QTYPE.A, rdata=A("192.168.1.1"), ttl=300))
    outcome = ask_upstream(answer)
    assert outcome.reason is Reason.REBINDING and outcome.ttl == 0
    assert outcome.encoded.counts == (0, 0, 0)


def test_the_upstream_stage_strips_records_out_of_bailiwick_and_counts_them():
    answer = DNSRecord.question("news.example").reply()
    answer.add_answer(RR("news.example", QTYPE.A, rdata=A("192.0.2.1"), ttl=300))
    answer.add_answer(RR("bank.example", QTYPE.A, rdata=A("192.0.2.66"), ttl=300))
    counters = ForwardCounters()
    outcome = ask_upstream(answer, counters)
    assert outcome.encoded.counts[0] == 1 and counters.bailiwick_stripped == 1


def test_the_upstream_stage_caches_nxdomain_for_the_soa_minimum_and_reports_silence():
    answer = DNSRecord.question("gone.example").reply()
    answer.header.rcode = NXDOMAIN
    soa = SOA("ns.example", "admin.example", (1, 3600, 600, 86400, 120))
    answer.add_auth(RR("example", QTYPE.SOA, rdata=soa, ttl=900))
    outcome = ask_upstream(answer)
    assert (outcome.rcode, outcome.ttl) == (NXDOMAIN, 120)
    assert ask_upstream(None) is None


# -- guards ---------------------------------------------------------------------------------------


def test_every_new_tuple_call_gives_exactly_the_fields_of_its_named_tuple():
    """new_tuple (tuple.__new__) skips the NamedTuple's own __new__, which would fill in
    defaults: a value missing at a call site builds a short tuple silently. Count them."""
    classes = {"Query": Query, "Reply": Reply}
    calls = 0
    for path in (ROOT / "filterd").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "new_tuple"):
                continue
            cls, values = node.args
            assert isinstance(values, ast.Tuple), f"{path}: pass the values as a literal tuple"
            fields = classes[cls.id]._fields
            assert len(values.elts) == len(fields), f"{path}:{node.lineno} {cls.id}"
            calls += 1
    assert calls >= 3  # Parse, the cache hit, a child's capped reply
    assert query_module.Stage.__doc__ and "never raises" in query_module.Stage.__doc__
