"""The chain of stages, wired in this one place. Each line says why the stage sits there.

Identify (address -> device -> child profile) and safe search live inside the policy stage:
a Query is immutable and the profile is needed only there, so identifying is one memoised
lookup in policy rather than a stage of its own; safe search answers through the cache below.
The cache stays below them so one child's answer can never leak to another.
"""

from __future__ import annotations

from filterd.clock import Clock
from filterd.dns.query import Stage
from filterd.forward.cache import AnswerCache
from filterd.forward.cache_stage import CacheStage
from filterd.forward.upstream_stage import UpstreamStage
from filterd.lists.service import Blocklists
from filterd.metrics import Metrics
from filterd.policy.local_answers import LocalAnswers
from filterd.policy.policy_stage import PolicyStage
from filterd.querylog.log_stage import LogStage
from filterd.querylog.queue import QueryLog
from filterd.rules.service import RulesService


def build_chain(
    upstream: UpstreamStage,
    cache: AnswerCache,
    querylog: QueryLog,
    metrics: Metrics,
    clock: Clock,
    blocklists: Blocklists,
    rules: RulesService,
) -> Stage:
    """Compose the stages, innermost first."""
    # Cache: client-agnostic, above the upstream so a hit never leaves the box.
    stage: Stage = CacheStage(cache, upstream, clock)
    # Policy (identify, the household floor, the child's rules, safe search, TTL caps): above
    # the cache, so a blocked name is answered locally (even with every upstream down) and one
    # device's decision never reaches another through a cached answer.
    stage = PolicyStage(stage, blocklists, rules, clock)
    # Local answers (canaries, ANY, private reverse zones): above policy, because the DoH and
    # Private Relay canaries must get exactly NXDOMAIN whatever lists name those domains.
    stage = LocalAnswers(stage)
    # Log/metrics: above everything that answers, so every reply is recorded exactly once.
    stage = LogStage(stage, querylog, metrics, clock)
    return stage
