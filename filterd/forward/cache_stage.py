"""The answer cache in the chain: hits answered from bytes, misses coalesced and fetched.

Identical questions in flight share one upstream exchange. When the upstreams fail, an expired
answer is served with TTL 30 (RFC 8767); with nothing stale the client gets SERVFAIL. A query
without RD (recursion desired) is answered from the cache or REFUSED, never forwarded: it is
how caches are snooped, and no client of a home resolver needs it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from filterd.clock import Clock
from filterd.dns.answers import NO_RECORDS, build_answer
from filterd.dns.query import Query, Reason, Reply
from filterd.dns.wire import RD, REFUSED, SERVFAIL, new_tuple
from filterd.forward.cache import AnswerCache, Entry
from filterd.forward.upstream_stage import Outcome

log = logging.getLogger(__name__)

MAX_INFLIGHT = 2000  # distinct upstream lookups at once, each holding a socket

_CACHED = Reason.CACHED  # read once: an Enum member read from its class costs a call each time

Fetch = Callable[[Query], Awaitable[Outcome | None]]


class CacheStage:
    """Answers from the cache, or fetches once per distinct question and stores the result."""

    def __init__(self, cache: AnswerCache, fetch: Fetch, clock: Clock) -> None:
        self.cache = cache
        self.entries = cache.entries  # emptied in place by a reload, never replaced
        self.fetch = fetch
        self.clock = clock
        self._inflight: dict[bytes, asyncio.Future[Outcome | None]] = {}

    def __call__(self, query: Query) -> Reply | Awaitable[Reply]:
        now = int(query.received)
        # AnswerCache.get written out: a fresh entry is a hit (moved to the LRU's end and
        # counted), anything else a miss; a call here would cost as much as the lookup.
        key = query.key
        entry = self.entries.get(key)
        if entry is not None and now < entry.expires:
            self.entries.move_to_end(key)
            self.cache.hits += 1
            body = entry.patched if entry.patched_at == now else entry.body_at(now)
            wire = build_answer(query, entry.rcode, entry.upstream_flags, entry.counts, body)
            return new_tuple(Reply, (wire, entry.rcode, _CACHED, True, 0, "", ""))
        self.cache.misses += 1
        if not query.flags & RD:  # a non-recursive question: our cache, never the internet
            wire = build_answer(query, REFUSED, 0, NO_RECORDS, b"")
            return Reply(wire, REFUSED, Reason.NOT_RECURSIVE, False)
        return self._miss(query)

    async def _miss(self, query: Query) -> Reply:
        pending = self._inflight.get(query.key)
        if pending is None and len(self._inflight) >= MAX_INFLIGHT:
            return self._failed(query)  # every socket busy: answer now rather than queue
        if pending is None:
            pending = asyncio.ensure_future(self._fetch_and_store(query))
            self._inflight[query.key] = pending
            pending.add_done_callback(lambda _: self._inflight.pop(query.key, None))
        outcome = await asyncio.shield(pending)
        if outcome is None:
            return self._failed(query)
        if outcome.rcode == SERVFAIL:
            stale = self.cache.get_stale(query.key, int(self.clock.monotonic()))
            if stale is not None:
                return self._stale_reply(query, stale)
        encoded = outcome.encoded
        wire = build_answer(query, outcome.rcode, outcome.flags, encoded.counts, encoded.body)
        return Reply(wire, outcome.rcode, outcome.reason, False)

    async def _fetch_and_store(self, query: Query) -> Outcome | None:
        try:
            outcome = await self.fetch(query)
        except Exception:  # a bug below must cost one SERVFAIL, never the server
            log.exception("resolving %r failed", query.qname)
            return None
        if outcome is None or outcome.ttl <= 0:
            return outcome
        now = int(self.clock.monotonic())
        if outcome.rcode == SERVFAIL and self.cache.get_stale(query.key, now) is not None:
            return outcome  # keep the good answer we have for serve-stale
        stale_age = 0 if outcome.rcode == SERVFAIL else self.cache.limits.stale_max_age
        self.cache.put(
            query.key,
            Entry(outcome.rcode, outcome.flags, outcome.encoded, now, outcome.ttl, stale_age),
        )
        return outcome

    def _failed(self, query: Query) -> Reply:
        """No answer from upstream: the stale answer if there is one, else SERVFAIL."""
        stale = self.cache.get_stale(query.key, int(self.clock.monotonic()))
        if stale is not None:
            return self._stale_reply(query, stale)
        wire = build_answer(query, SERVFAIL, 0, NO_RECORDS, b"")
        return Reply(wire, SERVFAIL, Reason.NO_UPSTREAM, False)

    @staticmethod
    def _stale_reply(query: Query, entry: Entry) -> Reply:
        wire = build_answer(
            query, entry.rcode, entry.upstream_flags, entry.counts, entry.stale_body()
        )
        return Reply(wire, entry.rcode, Reason.STALE, True)
