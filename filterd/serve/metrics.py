"""Serving's metrics: packets dropped or refused before resolution, and TCP connections
refused. Counted by admission and the sockets, exposed here at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, Metric

from filterd.metrics import Metrics, labelled


def families(metrics: Metrics) -> Iterator[Metric]:
    yield CounterMetricFamily(
        "filterd_rate_limited",
        "Queries dropped by the per-client rate limit.",
        value=metrics.dropped["rate_limited"],
    )
    yield CounterMetricFamily(
        "filterd_tcp_rejected_connections",
        "TCP connections refused by the per-client cap.",
        value=metrics.tcp_rejected,
    )
    yield labelled(
        CounterMetricFamily,
        "filterd_malformed_queries",
        "Client packets refused as malformed, by problem.",
        ["problem"],
        {(problem,): n for problem, n in metrics.malformed.copy().items()},
    )
    yield labelled(
        CounterMetricFamily,
        "filterd_dropped_queries",
        "Client packets not resolved, by cause.",
        ["cause"],
        {(cause,): n for cause, n in metrics.dropped.copy().items()},
    )
