"""Counters kept as plain ints on the hot path and exposed to Prometheus at scrape time.

prometheus-client's own Counter.inc() takes a lock and costs about a microsecond; a dict
increment costs a tenth of that. The collector below turns these numbers into metric families
on the injected registry. No label carries a domain or a client address.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector, CollectorRegistry

from filterd.dns.query import Reason
from filterd.dns.wire import rcode_name

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

    def answered_total(self) -> int:
        """Every answer counted so far (the LogStage counts each one in `answers`)."""
        return sum(self.answers.copy().values())

    def loggable_total(self) -> int:
        """Answers that go to the query log: all but helplines, which are left out on purpose
        (counting them would report as lost entries that were never meant to be written)."""
        return sum(n for (_, reason), n in self.answers.copy().items() if reason != Reason.HELPLINE)

    def upstream_error(self, upstream: str, kind: str) -> None:
        self.upstream_errors[(upstream, kind)] += 1


class MetricsCollector(Collector):
    """Reads Metrics and the live components when Prometheus scrapes."""

    def __init__(
        self,
        metrics: Metrics,
        cache_stats,
        querylog_stats,
        upstream_stats,
        lists_stats,
        rules_stats,
        discovery_stats,
    ) -> None:
        self.metrics = metrics
        self.lists_stats = lists_stats  # () -> dict (filterd.lists.service.Blocklists.stats)
        self.cache_stats = cache_stats  # () -> dict
        self.querylog_stats = querylog_stats  # () -> dict
        self.upstream_stats = upstream_stats  # () -> dict[label, bool]
        self.rules_stats = rules_stats  # () -> dict (filterd.rules.service.RulesService.stats)
        self.discovery_stats = discovery_stats  # () -> dict (filterd.discovery.service)

    def collect(self) -> Iterator[Metric]:
        m = self.metrics
        yield labelled(
            CounterMetricFamily,
            "filterd_queries",
            "Queries answered, by answer code and reason.",
            ["rcode", "reason"],
            {
                (rcode_name(rcode), reason.value): n
                for (rcode, reason), n in m.answers.copy().items()
            },
        )
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
        log = self.querylog_stats()
        counters = (
            ("filterd_cache_hits", "Answers served from the cache.", cache["hits"]),
            ("filterd_cache_misses", "Questions not in the cache.", cache["misses"]),
            ("filterd_cache_evictions", "Entries evicted to stay in bounds.", cache["evictions"]),
            (
                "filterd_rate_limited",
                "Queries dropped by the per-client rate limit.",
                m.dropped["rate_limited"],
            ),
            (
                "filterd_bailiwick_stripped_records",
                "Upstream records removed as out of bailiwick.",
                m.bailiwick_stripped,
            ),
            (
                "filterd_tcp_rejected_connections",
                "TCP connections refused by the per-client cap.",
                m.tcp_rejected,
            ),
            ("filterd_querylog_written", "Query log entries written.", log["written"]),
            (
                "filterd_querylog_dropped",
                "Query log entries dropped because the writer fell behind or the database failed.",
                log["dropped"],
            ),
        )
        lists = self.lists_stats()
        counters += (
            ("filterd_blocklist_swaps", "New blocklist indexes swapped in.", lists["swaps"]),
            (
                "filterd_blocklist_swap_failures",
                "New blocklist index files refused (the previous one stayed).",
                lists["swap_failures"],
            ),
            (
                "filterd_catalogue_swap_failures",
                "App catalogue files refused (the catalogue in force stayed).",
                lists["apps"]["failures"],
            ),
        )
        for name, documentation, value in counters:
            yield CounterMetricFamily(name, documentation, value=value)
        yield GaugeMetricFamily("filterd_cache_entries", "Entries in the cache.", cache["entries"])
        yield GaugeMetricFamily(
            "filterd_cache_bytes", "Approximate bytes held by the cache.", cache["bytes"]
        )

        yield GaugeMetricFamily(
            "filterd_blocklist_domains", "Domains in the blocklist index.", lists["domains"]
        )
        yield GaugeMetricFamily(
            "filterd_catalogue_services",
            "Apps in the catalogue in force.",
            lists["apps"]["services"],
        )
        yield GaugeMetricFamily(
            "filterd_blocklist_source_failures",
            "List sources that failed at the last update (their last good copy stays in force).",
            lists["source_failures"],
        )
        yield GaugeMetricFamily(
            "filterd_blocklist_updated_timestamp_seconds",
            "When the blocklist index was last built.",
            lists["updated"],
        )
        yield labelled(
            CounterMetricFamily,
            "filterd_blocklist_updates",
            "Scheduled blocklist updates run by the daemon, by outcome.",
            ["outcome"],
            {(outcome,): n for outcome, n in lists["updates"].items()},
        )
        yield labelled(
            CounterMetricFamily,
            "filterd_upstream_errors",
            "Failed or forged upstream exchanges, by upstream and kind.",
            ["upstream", "kind"],
            m.upstream_errors.copy(),
        )
        yield labelled(
            GaugeMetricFamily,
            "filterd_upstream_up",
            "1 when the upstream is not in backoff.",
            ["upstream"],
            {(label,): int(usable) for label, usable in self.upstream_stats().items()},
        )
        yield labelled(
            CounterMetricFamily,
            "filterd_malformed_queries",
            "Client packets refused as malformed, by problem.",
            ["problem"],
            {(problem,): n for problem, n in m.malformed.copy().items()},
        )
        yield labelled(
            CounterMetricFamily,
            "filterd_dropped_queries",
            "Client packets not resolved, by cause.",
            ["cause"],
            {(cause,): n for cause, n in m.dropped.copy().items()},
        )
        yield labelled(
            CounterMetricFamily,
            "filterd_config_reloads",
            "Config reloads by outcome.",
            ["outcome"],
            {(outcome,): n for outcome, n in m.reloads.copy().items()},
        )
        rules = self.rules_stats()
        yield labelled(
            CounterMetricFamily,
            "filterd_rules_reloads",
            "Rules file loads by outcome (a failed one leaves the rules in force unchanged).",
            ["outcome"],
            {(outcome,): n for outcome, n in rules["loads"].items()},
        )
        yield GaugeMetricFamily(
            "filterd_rules_valid",
            "1 when the rules file on disk is the one in force; 0 when it was refused.",
            rules["valid"],
        )
        yield GaugeMetricFamily(
            "filterd_rules_children", "Children with a profile in force.", rules["children"]
        )
        found = self.discovery_stats()
        yield labelled(
            CounterMetricFamily,
            "filterd_discovery_malformed_packets",
            "ARP, DHCP and neighbour-discovery packets skipped as malformed, by problem.",
            ["problem"],
            {(problem,): n for problem, n in found["malformed"].items()},
        )
        yield CounterMetricFamily(
            "filterd_discovery_new_devices",
            "Devices seen for the first time.",
            found["new_devices"],
        )
        yield GaugeMetricFamily(
            "filterd_discovery_capturing",
            "1 when discovery listens on the LAN interface; 0: neighbour table only.",
            found["capturing"],
        )
        yield GaugeMetricFamily(
            "filterd_discovery_addresses",
            "Addresses whose device (MAC) is known.",
            found["addresses"],
        )


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
