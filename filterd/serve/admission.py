"""Admission: what happens to a packet before it is a Query, and to an answer before it is sent.

These stages sit above the chain of Stages (filterd.dns.query.Stage) and work on packets: each
takes (data, client address, transport) or, below Parse, the Query, and returns the answer's
bytes, None to send nothing, or an awaitable of either. filterd.chain.build_chain puts them in
order. The UDP hot path stays synchronous through all of them: a cache hit is answered inside
datagram_received without creating a task.
"""

from __future__ import annotations

import asyncio
import struct
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

from filterd.clock import Clock
from filterd.dns.answers import client_opt
from filterd.dns.query import Query, Reply, Stage, Transport
from filterd.dns.wire import (
    CD,
    PLAIN_UDP_SIZE,
    REFUSED,
    Drop,
    Reject,
    answer_limit,
    error_reply,
    new_tuple,
    parse_query,
    truncated,
)
from filterd.selftest.marker import LOOPBACK, OwnProbe
from filterd.serve.acl import ClientAcl
from filterd.serve.metrics import ServeCounters
from filterd.serve.ratelimit import RateLimiter

Answer = bytes | None | Awaitable[bytes | None]
"""What the sockets send: the answer's bytes, None for no answer, or an awaitable of either."""

MAX_WAITING_PER_CLIENT = 256  # queries one client may have resolving at once
MAX_QUEUED_PER_CLIENT = 4096  # more wait their turn (a burst after an outage); beyond: dropped
TCP_MAX = 65535
OUTSIDERS = "outside allow_clients"  # the one rate-limit bucket every outsider shares
_TCP = Transport.TCP  # read once: an Enum member read from its class costs a call each time


class PendingAnswer(Protocol):
    """What becomes of an answer that must wait: started now, later, or dropped (None)."""

    def __call__(self, client: str, pending: Coroutine[Any, Any, bytes]) -> Answer: ...


class PacketStage(Protocol):
    """A stage on a packet as received: answers it, drops it (None) or passes it down."""

    def __call__(self, data: bytes, client: str, transport: Transport) -> Answer: ...


class QueryToWire(Protocol):
    """Below Parse: a Query in, the bytes to send (or None, or an awaitable of either) out."""

    def __call__(self, query: Query) -> Answer: ...


class AccessControl:
    """allow_clients decides the path: insiders are served, outsiders only ever refused."""

    def __init__(self, acl: ClientAcl, inside: PacketStage, outside: PacketStage) -> None:
        self.known = acl.known  # an address seen before: one dict lookup, no call
        self.allows = acl.allows
        self.inside = inside
        self.outside = outside

    def __call__(self, data: bytes, client: str, transport: Transport) -> Answer:
        allowed = self.known.get(client)
        if allowed is None:
            allowed = self.allows(client)
        if allowed:
            return self.inside(data, client, transport)
        return self.outside(data, client, transport)


class RateLimit:
    """A token bucket per client address, or one bucket for everyone given `bucket`."""

    def __init__(
        self,
        below: PacketStage,
        limiter: RateLimiter,
        metrics: ServeCounters,
        clock: Clock,
        bucket: str | None = None,
    ) -> None:
        self.below = below
        self.limiter = limiter
        self.dropped = metrics.dropped
        self.monotonic = clock.monotonic
        self.bucket = bucket

    def __call__(self, data: bytes, client: str, transport: Transport) -> Answer:
        limiter = self.limiter
        if limiter.rate > 0 and not limiter.allow(self.bucket or client, self.monotonic()):
            self.dropped["rate_limited"] += 1
            return None
        return self.below(data, client, transport)

    def left_out_while_off(self, above: AccessControl) -> None:
        """While the limit is off (queries_per_second: 0), `above` hands insiders' packets
        straight to the stage below: a stage that can only pass each packet on would cost a
        call per query. A reload that turns the limit on puts it back at once."""

        def follow() -> None:
            above.inside = self.__call__ if self.limiter.rate > 0 else self.below

        self.limiter.changed = follow
        follow()


class RefuseOutsiders:
    """An outsider learns nothing: REFUSED to a well-formed query, silence to the rest."""

    def __init__(self, metrics: ServeCounters) -> None:
        self.dropped = metrics.dropped

    def __call__(self, data: bytes, client: str, transport: Transport) -> Answer:
        try:
            qid, flags, _, _, _, question, edns = parse_query(data)
        except Drop:
            self.dropped["not_a_query"] += 1
            return None
        except Reject:  # not even FORMERR
            self.dropped["refused_client"] += 1
            return None
        self.dropped["refused_client"] += 1
        return error_reply(Reject(REFUSED, "client", qid, flags, question, edns))


class Parse:
    """Bytes to a Query, once: malformed packets get FORMERR (NOTIMP, BADVERS) or nothing."""

    def __init__(
        self,
        below: QueryToWire,
        metrics: ServeCounters,
        clock: Clock,
        on_rejected: Callable[[str, Reject, float], None] = lambda client, reject, at: None,
        own_probe: OwnProbe | None = None,
    ) -> None:
        self.below = below
        self.metrics = metrics
        self.monotonic = clock.monotonic
        self.on_rejected = on_rejected  # logs and counts each FORMERR / NOTIMP / BADVERS
        # The household self-test's questions (filterd.selftest.marker), so the log skips them.
        self.own_probe = own_probe
        self.loopback = LOOPBACK if own_probe is not None else frozenset()

    def __call__(self, data: bytes, client: str, transport: Transport) -> Answer:
        try:
            qid, flags, qname, qtype, qclass, question, edns = parse_query(data)
        except Drop:
            self.metrics.dropped["not_a_query"] += 1
            return None
        except Reject as reject:
            self.metrics.malformed[reject.reason] += 1
            self.on_rejected(client, reject, self.monotonic())
            return error_reply(reject)
        if edns is None:
            bits = 2 if flags & CD else 0
            max_size = TCP_MAX if transport is _TCP else PLAIN_UDP_SIZE
        else:
            bits = (1 if edns.do else 0) | (2 if flags & CD else 0)
            max_size = TCP_MAX if transport is _TCP else answer_limit(edns)
        qname = qname.lower()
        key = qname + question[-4:] + _BITS[bits]
        # new_tuple: no Python-level __new__ frame per query (tests/unit guards the field count).
        query = new_tuple(
            Query,
            (
                client,
                transport,
                qid,
                flags,
                qname,
                qtype,
                qclass,
                question,
                edns,
                self.monotonic(),
                key,
                max_size,
            ),
        )
        # The self-test's secret rides in an EDNS option: a question without EDNS is never
        # its own, and only one from loopback can be (empty without a probe).
        if edns is not None and client in self.loopback:
            probe = self.own_probe
            if probe is not None and probe.is_marked(data, client):
                probe.mark(query)
        return self.below(query)


class WaitingCap:
    """At most MAX_WAITING_PER_CLIENT queries of one client resolve at once; more wait their
    turn, so one client cannot tie up every socket, yet a burst (every device retrying once
    the upstream is back) is answered rather than lost. Beyond a long queue: dropped.

    Only answers that must wait (a cache miss) come here: Truncate hands each one over before
    it is started, so an answer ready at once (a cache hit) pays nothing for the cap."""

    def __init__(self, metrics: ServeCounters) -> None:
        self.dropped = metrics.dropped
        self.waiting: dict[str, int] = {}  # per client: queries resolving
        self.queued: dict[str, deque[asyncio.Future[None]]] = {}  # and those waiting a turn

    def __call__(self, client: str, pending: Coroutine[Any, Any, bytes]) -> Answer:
        """The pending answer, started now or in the client's turn; None when dropped."""
        waiting = self.waiting
        busy = waiting.get(client, 0)
        if busy < MAX_WAITING_PER_CLIENT:
            waiting[client] = busy + 1
            return self._finish(client, pending)
        return self._queue(client, pending)

    def _queue(self, client: str, pending: Coroutine[Any, Any, bytes]) -> Answer:
        turns = self.queued.setdefault(client, deque())
        if len(turns) >= MAX_QUEUED_PER_CLIENT:
            pending.close()  # never started: the stages below did no work for it
            self.dropped["too_many_waiting"] += 1
            return None
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        turns.append(turn)
        return self._finish(client, pending, turn)

    async def _finish(
        self,
        client: str,
        pending: Coroutine[Any, Any, bytes],
        turn: asyncio.Future[None] | None = None,
    ) -> bytes | None:
        if turn is not None:
            try:
                await turn  # the slot of a query that finished is handed to us
            except BaseException:
                pending.close()
                raise
        try:
            return await pending
        finally:
            self._release(client)

    def _release(self, client: str) -> None:
        """A query finished: hand its slot to the client's next queued query, or free it."""
        turns = self.queued.get(client)
        while turns:
            turn = turns.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        if turns is not None:
            del self.queued[client]
        left = self.waiting[client] - 1
        if left:
            self.waiting[client] = left
        else:
            del self.waiting[client]


class Truncate:
    """An answer bigger than the client can take over UDP becomes a TC=1 stub: ask over TCP.

    An answer that must wait goes to `wait` (the waiting cap) before it is started."""

    def __init__(self, below: Stage, wait: PendingAnswer = lambda client, pending: pending) -> None:
        self.below = below
        self.wait = wait

    def __call__(self, query: Query) -> Answer:
        reply = self.below(query)
        if type(reply) is Reply:
            wire = reply.wire
            return wire if len(wire) <= query.max_size else truncate(query, wire)
        return self.wait(query.client, self._later(query, reply))

    @staticmethod
    async def _later(query: Query, pending: Awaitable[Reply]) -> bytes:
        wire = (await pending).wire
        return wire if len(wire) <= query.max_size else truncate(query, wire)


def truncate(query: Query, wire: bytes) -> bytes:
    """A valid TC=1 answer holding only the question (and OPT): the client retries over TCP."""
    flags = struct.unpack_from("!H", wire, 2)[0]
    return truncated(query.qid, flags, query.question, client_opt(query))


_BITS = [bytes([i]) for i in range(4)]
