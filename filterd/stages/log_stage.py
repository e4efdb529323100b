"""Log and count every answer: the query log entry and the metrics, whatever answered it."""

from __future__ import annotations

from collections.abc import Awaitable

from filterd.clock import Clock
from filterd.metrics import Metrics
from filterd.query import Query, Reply, Stage
from filterd.querylog import QueryLog


class LogStage:
    """Records the reply of the stages below it, synchronously on the hot path when it can."""

    def __init__(self, below: Stage, querylog: QueryLog, metrics: Metrics, clock: Clock) -> None:
        self.below = below
        self.monotonic = clock.monotonic
        self.time = clock.time
        self.answered = metrics.answered
        self.record = querylog.record

    def __call__(self, query: Query) -> Reply | Awaitable[Reply]:
        reply = self.below(query)
        if type(reply) is Reply:
            self._record(query, reply)
            return reply
        return self._after(query, reply)

    async def _after(self, query: Query, pending: Awaitable[Reply]) -> Reply:
        reply = await pending
        self._record(query, reply)
        return reply

    def _record(self, query: Query, reply: Reply) -> None:
        latency = self.monotonic() - query.received
        self.answered(reply.rcode, reply.reason, latency)
        self.record(
            (
                self.time(),
                query.client,
                query.qname,
                query.qtype,
                reply.rcode,
                reply.reason._value_,  # the plain str: marshal takes no subclasses
                latency,
                reply.cached,
            )
        )
