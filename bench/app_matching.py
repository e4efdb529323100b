"""In-process measure of what app matching adds to a child's answer, beside the profiles run.

dnsperf throughput on a shared two-core machine moves by 20-40% between rounds, far more than
the cost being measured, so the profiles benchmark also times the policy stage itself, in one
process, alternating the two variants round by round (same names, same clock):

- without: the child of the profiles benchmark, the names belong to no app;
- with: the same child with a daily limit for BENCH_APP, which owns every name, so each
  answer finds its app, takes the app rows of the precedence table and counts the app.

Real parts throughout (the policy stage, the catalogue, the list store, the child's state,
TTL capping on real answer packets); only the stage below (a cache hit) is a fixed answer.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from dnslib import QTYPE, RR, A, DNSRecord

from filterd.catalogue.load import CATALOGUE_FILE, parse_catalogue
from filterd.catalogue.model import EMPTY, Catalogue
from filterd.dns.block_answers import BlockAnswers
from filterd.dns.query import Query, Reason, Reply, Transport
from filterd.lists.categories import mask_of
from filterd.lists.store import ListStore
from filterd.policy.policy_stage import PolicyStage
from filterd.rules.child_state import ChildState
from filterd.rules.identify import everyone_as
from filterd.rules.parse import parse_rules
from filterd.rules.safe_search_names import rewrites
from filterd.rules.usage import UsageTracker

NAMES = 2_000
PASSES = 3  # passes over the names per round
ROUNDS = 31  # pairs of rounds; the paired ratios' median is the result


def catalogue_with(app: str, domain: str) -> Catalogue:
    """The shipped catalogue plus one app owning `domain` (as the profiles run writes it)."""
    text = CATALOGUE_FILE.read_text(encoding="utf-8")
    count = int(text.split("services_count: ", 1)[1].split("\n", 1)[0])
    text = text.replace(f"services_count: {count}", f"services_count: {count + 1}")
    text += (
        f"  {app}:\n    name: Benchmark app\n    kind: gaming\n    domains: [{domain}]\n"
        "    checked: 2026-11-27\n    source: knowledge\n"
    )
    return parse_catalogue(text)


def _queries(domain: str) -> tuple[list[Query], dict[bytes, Reply]]:
    queries, answers = [], {}
    for i in range(NAMES):
        record = DNSRecord.question(f"www.site{i}.{domain}", "A")
        wire = bytes(record.pack())
        question = wire[12:]
        qname = question[:-4].lower()
        queries.append(
            Query("127.0.0.1", Transport.UDP, record.header.id, 0x0100, qname, 1, 1, question,
                  None, 0.0, question, 512)
        )  # fmt: skip
        reply = record.reply()
        reply.add_answer(RR(f"www.site{i}.{domain}", QTYPE.A, rdata=A("192.0.2.1"), ttl=300))
        answers[qname] = Reply(bytes(reply.pack()), 0, Reason.CACHED, True)
    return queries, answers


def _stage(rules_text: str, catalogue: Catalogue, answers: dict[bytes, Reply], child: str):
    rules = parse_rules(rules_text, catalogue)
    profile = rules.children[child]
    state = ChildState(
        profile, rules.timezone, UsageTracker(frozenset()), rewrites(profile.safe_search)
    )
    lists = SimpleNamespace(
        store=ListStore(Path("/nonexistent/index")),  # no index: categories come from apps
        apps=SimpleNamespace(current=catalogue),
        floor=mask_of(["illegal"]),
        answers=BlockAnswers("null_ip", 10, None, None),
    )
    rules_service = SimpleNamespace(identify=everyone_as(state))
    clock = SimpleNamespace(time=time.time)
    below = lambda query: answers[query.qname]  # noqa: E731  (a cache hit)
    return PolicyStage(below, lists, rules_service, clock)  # type: ignore[arg-type]


def _round(stage, queries: list[Query]) -> float:
    """CPU microseconds of this thread per answer over PASSES passes (CPU time, not wall
    time: time spent waiting for a core another process holds is not counted)."""
    started = time.thread_time()
    for _ in range(PASSES):
        for query in queries:
            stage(query)
    return (time.thread_time() - started) / (PASSES * len(queries)) * 1e6


def measure(plain_rules: str, app_rules: str, child: str, app: str, domain: str) -> dict[str, Any]:
    """Per-answer cost of the policy stage without and with app matching, alternating."""
    queries, answers = _queries(domain)
    without = _stage(plain_rules, EMPTY, answers, child)
    with_apps = _stage(app_rules, catalogue_with(app, domain), answers, child)
    reply = with_apps(queries[0])
    assert reply.service == app and not reply.reason.startswith("block"), reply
    assert without(queries[0]).service == "", "the plain child matches no app"
    times: dict[str, list[float]] = {"without": [], "with": []}
    for n in range(ROUNDS):
        order = [("without", without), ("with", with_apps)]
        for key, stage in order[::-1] if n % 2 else order:  # ABBA
            times[key].append(_round(stage, queries))
    best = {key: min(values) for key, values in times.items()}
    # Each round's pair ran back to back, so a burst from another process on this shared
    # machine mostly hits both or neither: the median of the paired ratios is the figure.
    paired = [w / o for w, o in zip(times["with"], times["without"], strict=True)]
    return {
        "names": NAMES,
        "passes": PASSES,
        "rounds": ROUNDS,
        "us_per_answer": {k: [round(v, 3) for v in vals] for k, vals in times.items()},
        "best_us": {k: round(v, 3) for k, v in best.items()},
        "median_us": {k: round(statistics.median(v), 3) for k, v in times.items()},
        "slower_by": round(statistics.median(paired) - 1, 3),
        "slower_by_best": round(best["with"] / best["without"] - 1, 3),
    }
