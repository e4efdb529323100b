"""Counters kept as plain ints on the hot path and exposed to Prometheus at scrape time.

prometheus-client's own Counter.inc() takes a lock and costs about a microsecond; a dict
increment costs a tenth of that. Each package keeps its own counters and turns them into
metric families in its own metrics.py (serve, forward, querylog, lists, rules, discovery; the
daemon's config reloads in filterd.daemon). Only the per-answer counts (Metrics) live here:
several packages read them. The collector below chains every package's families on the
injected registry. No label carries a domain or a client address.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator

from prometheus_client.core import Metric
from prometheus_client.registry import Collector, CollectorRegistry

from filterd.dns.query import Reason

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
FASTEST_BOUND = LATENCY_BOUNDS[0]


class Metrics:
    """Answers by rcode and reason, and how long they took: counted once per answer by the
    log stage (filterd.querylog.log_stage), read by the querylog's metric families, the
    heartbeat (filterd.events.heartbeat) and the query-log queue's loss count. Every other
    counter lives in its package's metrics.py. Written by the event loop, read by the scrape
    thread."""

    def __init__(self) -> None:
        self.answers: Counter[tuple[int, Reason]] = Counter()
        self.latency_buckets = [0] * (len(LATENCY_BOUNDS) + 1)
        self.latency_sum = 0.0

    def loggable_total(self) -> int:
        """Answers that go to the query log: all but helplines, which are left out on purpose
        (counting them would report as lost entries that were never meant to be written)."""
        # A snapshot made in C (list of items), not Counter.copy's Python-level rebuild: this
        # runs 10 times a second (the query log's flush), busy or idle.
        helpline = Reason.HELPLINE
        return sum(n for (_, reason), n in list(self.answers.items()) if reason != helpline)


class MetricsCollector(Collector):
    """At scrape time, every package's own families (filterd/*/metrics.py), in turn."""

    def __init__(self, *sources: Callable[[], Iterable[Metric]]) -> None:
        self.sources = sources

    def collect(self) -> Iterator[Metric]:
        for source in self.sources:
            yield from source()


def labelled(
    family, name: str, documentation: str, labels: list[str], samples: dict[tuple[str, ...], float]
) -> Metric:
    """A metric family with one sample per label combination."""
    metric = family(name, documentation, labels=labels)
    for values, value in samples.items():
        metric.add_metric(list(values), value)
    return metric


def make_registry(collector: MetricsCollector) -> CollectorRegistry:
    """A registry of our own (no process-wide default), holding only filterd's metrics."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry
