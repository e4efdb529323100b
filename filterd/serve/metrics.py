"""Serving's metrics: packets dropped or refused before resolution, and TCP connections
refused. Counted by admission and the sockets into ServeCounters, exposed here at scrape
time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, Metric

from filterd.metrics import labelled


class ServeCounters:
    """Serving's own counts, plain ints and dicts (a dict increment on the hot path costs a
    tenth of prometheus-client's locked Counter.inc()). Written by the event loop, read by
    the scrape thread."""

    def __init__(self) -> None:
        self.malformed: Counter[str] = Counter()  # FORMERR / NOTIMP / BADVERS, by problem
        # rate_limited, refused_client, not_a_query, too_many_waiting
        self.dropped: Counter[str] = Counter()
        self.tcp_rejected = 0


def families(counters: ServeCounters) -> Iterator[Metric]:
    yield CounterMetricFamily(
        "filterd_rate_limited",
        "Queries dropped by the per-client rate limit.",
        value=counters.dropped["rate_limited"],
    )
    yield CounterMetricFamily(
        "filterd_tcp_rejected_connections",
        "TCP connections refused by the per-client cap.",
        value=counters.tcp_rejected,
    )
    yield labelled(
        CounterMetricFamily,
        "filterd_malformed_queries",
        "Client packets refused as malformed, by problem.",
        ["problem"],
        {(problem,): n for problem, n in counters.malformed.copy().items()},
    )
    yield labelled(
        CounterMetricFamily,
        "filterd_dropped_queries",
        "Client packets not resolved, by cause.",
        ["cause"],
        {(cause,): n for cause, n in counters.dropped.copy().items()},
    )
