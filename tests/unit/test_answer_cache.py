"""The answer cache's memory bound, measured with tracemalloc on real encoded answers."""

from __future__ import annotations

import tracemalloc

from dnslib import QTYPE, RR, A, DNSRecord

from filterd.dns.records import decode_message
from filterd.dns.wire import text_to_wire
from filterd.forward.cache import AnswerCache, Entry
from filterd.forward.metrics import ForwardCounters
from filterd.forward.settings import CacheLimits
from filterd.forward.upstream_stage import RebindingPolicy, UpstreamStage


def test_cache_memory_stays_near_max_megabytes():
    """forward/cache.py Entry.size counts the body plus a flat 240 bytes, not the key, the second
    (patched) copy of the body, nor the TTL offset and value tuples."""
    limits = CacheLimits(max_entries=10_000_000, max_bytes=2 * 2**20)
    stage = UpstreamStage(None, limits, RebindingPolicy(True, ()), ForwardCounters())
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
        f"cache.max_megabytes 2 holds {used / 2**20:.1f} MiB ({len(cache)} entries)"
    )
