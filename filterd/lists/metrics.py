"""The blocklists' metrics: the index in force, its swaps and updates, and the app catalogue
beside it, read at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from filterd.lists.service import Blocklists
from filterd.metrics import labelled


def families(lists: Blocklists) -> Iterator[Metric]:
    store, status, apps = lists.store, lists.status or {}, lists.apps
    yield CounterMetricFamily(
        "filterd_blocklist_swaps", "New blocklist indexes swapped in.", store.swaps
    )
    yield CounterMetricFamily(
        "filterd_blocklist_swap_failures",
        "New blocklist index files refused (the previous one stayed).",
        store.swap_failures,
    )
    yield GaugeMetricFamily(
        "filterd_blocklist_domains", "Domains in the blocklist index.", store.domains
    )
    categories = status.get("categories")
    yield labelled(
        GaugeMetricFamily,
        "filterd_blocklist_category_domains",
        "Distinct domains each category blocks (shipped list and sources) at the last build.",
        ["category"],
        {
            (category,): count
            for category, count in (categories if isinstance(categories, dict) else {}).items()
            if isinstance(count, int)
        },
    )
    yield GaugeMetricFamily(
        "filterd_blocklist_source_failures",
        "List sources that failed at the last update (their last good copy stays in force).",
        status.get("failures", 0),
    )
    yield GaugeMetricFamily(
        "filterd_blocklist_updated_timestamp_seconds",
        "When the blocklist index was last built.",
        status.get("updated", 0),
    )
    yield labelled(
        CounterMetricFamily,
        "filterd_blocklist_updates",
        "Scheduled blocklist updates run by the daemon, by outcome.",
        ["outcome"],
        {(outcome,): n for outcome, n in dict(lists.updates).items()},
    )
    yield CounterMetricFamily(
        "filterd_catalogue_swap_failures",
        "App catalogue files refused (the catalogue in force stayed).",
        apps.failures,
    )
    yield GaugeMetricFamily(
        "filterd_catalogue_services", "Apps in the catalogue in force.", len(apps.current.services)
    )
