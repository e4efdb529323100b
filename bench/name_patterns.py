"""Name-patterns benchmark: what helplines, essential names and name patterns cost a lookup.

In-process, on the list store the DNS path calls for every query (`ListStore.categories`),
with the index compiled from the shipped lists. Three stores, measured in alternating rounds
(ABBA...) so a drift of the shared machine favours none:

1. `lists`: the index only (no helplines, essential names or patterns);
2. `protected`: plus the shipped helplines and essential names;
3. `patterns`: plus the shipped name patterns (what filterd runs).

Two costs each, as microseconds a lookup, median of the rounds:

- hit: a name the store has seen before (its per-name memo answers). Every repeat query
  takes this path, so it is the hot path; patterns add no work to it by design.
- miss: a name seen for the first time (memo emptied before each pass): index lookup, the
  helpline/essential check and, for `patterns`, the one pattern search. Only a name's first
  query (and the first after an index swap) pays it, and that query also waits on the
  upstream, which costs far more.

Names: the forwarder benchmark's 10,000 `www.siteN.bench.test` plus 10,000 longer CDN-style
names (`cdn-N.images.some-service-name.co.uk`), none of which a pattern matches: the common
case. Targets: the hit path with patterns within 5% of the hit path without them, and a
first sight with patterns at most twice the cost without them.
dnsmasq has no equivalent step, so no dnsmasq column here; the blocklists and profiles
benchmarks compare whole-query throughput with dnsmasq.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.machine import Pinning
from bench.options import RunOptions
from bench.queries import DOMAIN, NAME_COUNT
from bench.report import fmt, format_table, target_lines

NAME = "name_patterns"
ROUNDS = 9
QUICK_ROUNDS = 3
PASSES = 3  # passes over the names per round and variant; the fastest pass counts
HIT_TARGET = 1.05
MISS_TARGET = 2.0
VARIANTS = ("lists", "protected", "patterns")


def _names() -> list[bytes]:
    from filterd.lists.index import domain_to_wire

    names = [domain_to_wire(f"www.site{i}.{DOMAIN}") for i in range(NAME_COUNT)]
    names += [domain_to_wire(f"cdn-{i}.images.some-service-name.co.uk") for i in range(NAME_COUNT)]
    return names


def _stores(directory: Path) -> dict[str, Any]:
    """Three stores over one index built offline from the shipped lists."""
    from filterd.lists.patterns import EMPTY
    from filterd.lists.service import load_protected
    from filterd.lists.settings import BlocklistSettings, ListsUpdate
    from filterd.lists.store import ListStore
    from filterd.lists.update import build_index, index_path

    settings = BlocklistSettings(lists_update=ListsUpdate(directory=directory))
    build_index(settings, online=False)
    helplines, essential, patterns = load_protected(settings)
    protections = {
        "lists": (frozenset(), frozenset(), EMPTY),
        "protected": (helplines, essential, EMPTY),
        "patterns": (helplines, essential, patterns),
    }
    stores = {}
    for variant, protection in protections.items():
        store = ListStore(index_path(settings), *protection)
        store.refresh()
        stores[variant] = store
    return stores


def _per_lookup(store: Any, names: list[bytes], cold: bool) -> float:
    """Microseconds a lookup over the names, fastest of PASSES passes."""
    best = float("inf")
    categories = store.categories
    for _ in range(PASSES):
        if cold:
            store.masks = {}
        else:
            for name in names:
                categories(name)
        started = time.perf_counter()
        for name in names:
            categories(name)
        best = min(best, time.perf_counter() - started)
    return best / len(names) * 1e6


def run(options: RunOptions, pinning: Pinning) -> dict[str, Any]:
    rounds = QUICK_ROUNDS if options.quick else ROUNDS
    names = _names()
    samples: dict[str, dict[str, list[float]]] = {v: {"hit": [], "miss": []} for v in VARIANTS}
    with tempfile.TemporaryDirectory(prefix="filterd-bench-") as tmp:
        stores = _stores(Path(tmp))
        matched = sum(1 for n in names if stores["patterns"].patterns.mask(n))
        for i in range(rounds):
            order = VARIANTS if i % 2 == 0 else tuple(reversed(VARIANTS))
            for variant in order:
                for path in ("miss", "hit"):
                    samples[variant][path].append(
                        _per_lookup(stores[variant], names, cold=path == "miss")
                    )
        for store in stores.values():
            store.close()
    results = {
        v: {f"{path}_us": round(statistics.median(samples[v][path]), 3) for path in ("hit", "miss")}
        | {"rounds": samples[v]}
        for v in VARIANTS
    }
    hit_ratio = results["patterns"]["hit_us"] / results["protected"]["hit_us"]
    miss_ratio = results["patterns"]["miss_us"] / results["protected"]["miss_us"]
    return {
        "benchmark": NAME,
        "quick": options.quick,
        "settings": {"names": len(names), "rounds": rounds, "passes": PASSES},
        "names_matched_by_patterns": matched,
        "servers": results,
        "ratios": {
            "hit_patterns_over_protected": round(hit_ratio, 3),
            "miss_patterns_over_protected": round(miss_ratio, 3),
            "miss_patterns_added_us": round(
                results["patterns"]["miss_us"] - results["protected"]["miss_us"], 3
            ),
        },
        "targets": [
            {
                "target": f"seen-name lookup with patterns <= {HIT_TARGET:g} x without",
                "value": round(hit_ratio, 3),
                "pass": hit_ratio <= HIT_TARGET,
                "reliable": True,
            },
            {
                "target": f"first-sight lookup with patterns <= {MISS_TARGET:g} x without",
                "value": round(miss_ratio, 3),
                "pass": miss_ratio <= MISS_TARGET,
                "reliable": True,
            },
        ],
    }


def failed(data: dict[str, Any]) -> bool:
    return data.get("names_matched_by_patterns", 0) != 0  # the names must be the common case


def summary(data: dict[str, Any]) -> str:
    res = data["servers"]
    rows = [
        [variant, fmt(res[variant]["hit_us"], 3), fmt(res[variant]["miss_us"], 3)]
        for variant in VARIANTS
    ]
    ratios = data["ratios"]
    lines = [
        format_table(["store", "seen name (us)", "first sight (us)"], rows),
        f"patterns on a first sight: +{fmt(ratios['miss_patterns_added_us'], 3)} us "
        f"({fmt(ratios['miss_patterns_over_protected'], 2)} x without patterns)",
        *target_lines(data["targets"]),
    ]
    return "\n".join(lines)
