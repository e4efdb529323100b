"""The answers' metrics: every query by answer code and reason, how long answering took, and
the query log's own counts. Counted by the log stage, exposed here at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric

from filterd.dns.wire import rcode_name
from filterd.metrics import LATENCY_BOUNDS, Metrics, labelled
from filterd.querylog.queue import QueryLog


def families(metrics: Metrics, querylog: QueryLog) -> Iterator[Metric]:
    yield labelled(
        CounterMetricFamily,
        "filterd_queries",
        "Queries answered, by answer code and reason.",
        ["rcode", "reason"],
        {
            (rcode_name(rcode), reason.value): n
            for (rcode, reason), n in metrics.answers.copy().items()
        },
    )
    buckets, total = [], 0
    bounds = (*LATENCY_BOUNDS, float("inf"))
    for bound, n in zip(bounds, list(metrics.latency_buckets), strict=True):
        total += n
        buckets.append((str(bound) if bound != float("inf") else "+Inf", total))
    yield HistogramMetricFamily(
        "filterd_query_duration_seconds",
        "Time from receiving a query to answering it.",
        buckets=buckets,
        sum_value=metrics.latency_sum,
    )
    yield CounterMetricFamily(
        "filterd_querylog_written", "Query log entries written.", value=querylog.written
    )
    yield CounterMetricFamily(
        "filterd_querylog_dropped",
        "Query log entries dropped because the writer fell behind or the database failed.",
        value=querylog.dropped + querylog.writer_dropped,
    )
