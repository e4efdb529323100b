"""Log and count every answer: the query log entry and the metrics, whatever answered it."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Awaitable

from filterd.clock import Clock
from filterd.dns.query import Query, Reason, Reply, Stage
from filterd.dns.wire import Reject
from filterd.metrics import FASTEST_BOUND, LATENCY_BOUNDS, Metrics
from filterd.querylog.queue import QueryLog
from filterd.selftest.marker import OwnProbe

_HELPLINE = Reason.HELPLINE  # read once: an Enum member read from its class costs a call each time


class LogStage:
    """Records the reply of the stages below it, synchronously on the hot path when it can.

    The counting is written out here rather than behind Metrics methods: it runs for every
    query, and each Python call costs as much as the work it would wrap.
    """

    def __init__(
        self,
        below: Stage,
        querylog: QueryLog,
        metrics: Metrics,
        clock: Clock,
        own_probe: OwnProbe | None = None,
    ) -> None:
        self.below = below
        # The household self-test's questions, marked by Parse: answered, never logged, so
        # its illegal-tier samples raise no event or alert (filterd.selftest.marker).
        self.own_probe = own_probe
        self.probing = own_probe.pending if own_probe is not None else frozenset()
        self.monotonic = clock.monotonic
        self.time = clock.time
        self.metrics = metrics
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
        metrics = self.metrics
        metrics.answers[(reply.rcode, reply.reason)] += 1
        if latency <= FASTEST_BOUND:  # most answers (cache hits): skip the bucket search
            metrics.latency_buckets[0] += 1
        else:
            metrics.latency_buckets[bisect_left(LATENCY_BOUNDS, latency)] += 1
        metrics.latency_sum += latency
        if reply.reason is _HELPLINE:
            return  # a child contacting a support service is nobody's business: not logged
        if self.probing and self.own_probe is not None and self.own_probe.take(query):
            return  # the box's own self-test: not a device's lookup
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
                reply.categories,
                reply.child,
                reply.service,
            )
        )

    def rejected(self, client: str, reject: Reject, received: float) -> None:
        """A query answered FORMERR, NOTIMP or BADVERS before the chain: counted and logged
        like every other answer, with its question when it could be read."""
        latency = self.monotonic() - received
        metrics = self.metrics
        metrics.answers[(reject.rcode, Reason.MALFORMED)] += 1
        metrics.latency_buckets[bisect_left(LATENCY_BOUNDS, latency)] += 1
        metrics.latency_sum += latency
        question = reject.question
        qname = question[:-4].lower() if question else b"\x00"
        qtype = (question[-4] << 8 | question[-3]) if question else 0
        self.record(
            (
                self.time(),
                client,
                qname,
                qtype,
                reject.rcode,
                Reason.MALFORMED._value_,
                latency,
                False,
                0,
                "",
                "",
            )
        )
