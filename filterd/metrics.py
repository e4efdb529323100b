"""Counters kept as plain ints on the hot path and exposed to Prometheus at scrape time.

prometheus-client's own Counter.inc() takes a lock and costs about a microsecond; a dict
increment costs a tenth of that. The collector below turns these numbers into metric families
on the injected registry. No label carries a domain or a client address.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterator

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector, CollectorRegistry

from filterd.query import Reason

LATENCY_BOUNDS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
)
RCODE_NAMES = {
    0: "NOERROR",
    1: "FORMERR",
    2: "SERVFAIL",
    3: "NXDOMAIN",
    4: "NOTIMP",
    5: "REFUSED",
    16: "BADVERS",
}


def rcode_name(rcode: int) -> str:
    return RCODE_NAMES.get(rcode, f"RCODE{rcode}")


class Metrics:
    """Everything filterd counts. Written by the event loop, read by the scrape thread."""

    def __init__(self) -> None:
        self.answers: Counter[tuple[int, Reason]] = Counter()
        self.latency_buckets = [0] * (len(LATENCY_BOUNDS) + 1)
        self.latency_sum = 0.0
        self.upstream_errors: Counter[tuple[str, str]] = Counter()
        self.malformed: Counter[str] = Counter()
        self.dropped: Counter[str] = Counter()  # rate_limited, refused_client, response
        self.bailiwick_stripped = 0
        self.tcp_rejected = 0
        self.reloads: Counter[str] = Counter()  # ok / failed

    def answered(self, rcode: int, reason: Reason, seconds: float) -> None:
        self.answers[(rcode, reason)] += 1
        self.latency_buckets[bisect.bisect_left(LATENCY_BOUNDS, seconds)] += 1
        self.latency_sum += seconds

    def upstream_error(self, upstream: str, kind: str) -> None:
        self.upstream_errors[(upstream, kind)] += 1


class MetricsCollector(Collector):
    """Reads Metrics and the live components when Prometheus scrapes."""

    def __init__(self, metrics: Metrics, cache_stats, querylog_stats, upstream_stats) -> None:
        self.metrics = metrics
        self.cache_stats = cache_stats  # () -> dict
        self.querylog_stats = querylog_stats  # () -> dict
        self.upstream_stats = upstream_stats  # () -> dict[label, bool]

    def collect(self) -> Iterator[Metric]:
        m = self.metrics
        answers = CounterMetricFamily(
            "filterd_queries",
            "Queries answered, by answer code and reason.",
            labels=["rcode", "reason"],
        )
        for (rcode, reason), n in m.answers.copy().items():
            answers.add_metric([rcode_name(rcode), reason.value], n)
        yield answers

        buckets, total = [], 0
        for bound, n in zip((*LATENCY_BOUNDS, float("inf")), list(m.latency_buckets), strict=True):
            total += n
            buckets.append((str(bound) if bound != float("inf") else "+Inf", total))
        yield HistogramMetricFamily(
            "filterd_query_duration_seconds",
            "Time from receiving a query to answering it.",
            buckets=buckets,
            sum_value=m.latency_sum,
        )

        cache = self.cache_stats()
        yield CounterMetricFamily(
            "filterd_cache_hits", "Answers served from the cache.", value=cache["hits"]
        )
        yield CounterMetricFamily(
            "filterd_cache_misses", "Questions not in the cache.", value=cache["misses"]
        )
        yield CounterMetricFamily(
            "filterd_cache_evictions",
            "Entries evicted to stay in bounds.",
            value=cache["evictions"],
        )
        yield GaugeMetricFamily(
            "filterd_cache_entries", "Entries in the cache.", value=cache["entries"]
        )
        yield GaugeMetricFamily(
            "filterd_cache_bytes", "Approximate bytes held by the cache.", value=cache["bytes"]
        )

        errors = CounterMetricFamily(
            "filterd_upstream_errors",
            "Failed or forged upstream exchanges, by upstream and kind.",
            labels=["upstream", "kind"],
        )
        for (upstream, kind), n in m.upstream_errors.copy().items():
            errors.add_metric([upstream, kind], n)
        yield errors
        up = GaugeMetricFamily(
            "filterd_upstream_up", "1 when the upstream is not in backoff.", labels=["upstream"]
        )
        for label, usable in self.upstream_stats().items():
            up.add_metric([label], 1 if usable else 0)
        yield up

        malformed = CounterMetricFamily(
            "filterd_malformed_queries",
            "Client packets refused as malformed, by problem.",
            labels=["problem"],
        )
        for problem, n in m.malformed.copy().items():
            malformed.add_metric([problem], n)
        yield malformed
        dropped = CounterMetricFamily(
            "filterd_dropped_queries", "Client packets not resolved, by cause.", labels=["cause"]
        )
        for cause, n in m.dropped.copy().items():
            dropped.add_metric([cause], n)
        yield dropped
        yield CounterMetricFamily(
            "filterd_rate_limited",
            "Queries dropped by the per-client rate limit.",
            value=m.dropped["rate_limited"],
        )
        yield CounterMetricFamily(
            "filterd_bailiwick_stripped_records",
            "Upstream records removed as out of bailiwick.",
            value=m.bailiwick_stripped,
        )
        yield CounterMetricFamily(
            "filterd_tcp_rejected_connections",
            "TCP connections refused by the per-client cap.",
            value=m.tcp_rejected,
        )
        reloads = CounterMetricFamily(
            "filterd_config_reloads", "Config reloads by outcome.", labels=["outcome"]
        )
        for outcome, n in m.reloads.copy().items():
            reloads.add_metric([outcome], n)
        yield reloads

        log = self.querylog_stats()
        yield CounterMetricFamily(
            "filterd_querylog_written", "Query log entries written.", value=log["written"]
        )
        yield CounterMetricFamily(
            "filterd_querylog_dropped",
            "Query log entries dropped because the writer fell behind or the database failed.",
            value=log["dropped"],
        )


def make_registry(collector: MetricsCollector) -> CollectorRegistry:
    """A registry of our own (no process-wide default), holding only filterd's metrics."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry
