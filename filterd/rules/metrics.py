"""The rules file's metrics: loads, whether the file on disk is the one in force, children."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from filterd.metrics import labelled
from filterd.rules.service import RulesService


def families(rules: RulesService) -> Iterator[Metric]:
    yield labelled(
        CounterMetricFamily,
        "filterd_rules_reloads",
        "Rules file loads by outcome (a failed one leaves the rules in force unchanged).",
        ["outcome"],
        {(outcome,): n for outcome, n in dict(rules.loads).items()},
    )
    yield GaugeMetricFamily(
        "filterd_rules_valid",
        "1 when the rules file on disk is the one in force; 0 when it was refused.",
        int(not rules.problems),
    )
    in_force = rules.rules
    yield GaugeMetricFamily(
        "filterd_rules_children",
        "Children with a profile in force.",
        len(in_force.children) if in_force else 0,
    )
