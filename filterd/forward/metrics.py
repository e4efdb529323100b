"""Forwarding's metrics: the cache, records stripped from upstream answers, and each
upstream's errors and health. The upstream client and stage count into ForwardCounters;
everything is read at scrape time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from filterd.clock import Clock
from filterd.forward.cache import AnswerCache
from filterd.forward.upstream import UpstreamClient
from filterd.metrics import labelled


class ForwardCounters:
    """Forwarding's own counts, as plain ints and dicts (see filterd.metrics for why).
    Written by the event loop, read by the scrape thread."""

    def __init__(self) -> None:
        self.upstream_errors: Counter[tuple[str, str]] = Counter()  # (upstream, kind)
        self.bailiwick_stripped = 0

    def upstream_error(self, upstream: str, kind: str) -> None:
        """The upstream client's ErrorSink: one failed or forged exchange."""
        self.upstream_errors[(upstream, kind)] += 1


def families(
    counters: ForwardCounters, cache: AnswerCache, client: UpstreamClient, clock: Clock
) -> Iterator[Metric]:
    yield CounterMetricFamily("filterd_cache_hits", "Answers served from the cache.", cache.hits)
    yield CounterMetricFamily("filterd_cache_misses", "Questions not in the cache.", cache.misses)
    yield CounterMetricFamily(
        "filterd_cache_evictions", "Entries evicted to stay in bounds.", cache.evictions
    )
    yield GaugeMetricFamily("filterd_cache_entries", "Entries in the cache.", len(cache))
    yield GaugeMetricFamily(
        "filterd_cache_bytes", "Approximate bytes held by the cache.", cache.bytes
    )
    yield CounterMetricFamily(
        "filterd_bailiwick_stripped_records",
        "Upstream records removed as out of bailiwick.",
        counters.bailiwick_stripped,
    )
    yield labelled(
        CounterMetricFamily,
        "filterd_upstream_errors",
        "Failed or forged upstream exchanges, by upstream and kind.",
        ["upstream", "kind"],
        counters.upstream_errors.copy(),
    )
    now = clock.monotonic()
    health = client.health
    yield labelled(
        GaugeMetricFamily,
        "filterd_upstream_up",
        "1 when the upstream is not in backoff.",
        ["upstream"],
        {(e.label,): int(health[e].usable(now)) for e in client.endpoints},
    )
