"""The chain of stages, wired in this one place. Each line says why the stage sits there.

Later issues insert identify (address -> device -> child) at the top, and policy and safe search
between logging and local answers; the cache stays below them so one child's answer can never
leak to another.
"""

from __future__ import annotations

from filterd.cache import AnswerCache
from filterd.clock import Clock
from filterd.metrics import Metrics
from filterd.query import Stage
from filterd.querylog import QueryLog
from filterd.stages.cache_stage import CacheStage
from filterd.stages.local_answers import LocalAnswers
from filterd.stages.log_stage import LogStage
from filterd.stages.upstream_stage import UpstreamStage


def build_chain(
    upstream: UpstreamStage, cache: AnswerCache, querylog: QueryLog, metrics: Metrics, clock: Clock
) -> Stage:
    """Compose the stages, innermost first."""
    # Cache: client-agnostic, above the upstream so a hit never leaves the box.
    stage: Stage = CacheStage(cache, upstream, clock)
    # Local answers (ANY, private reverse zones): above the cache, never forwarded upstream.
    stage = LocalAnswers(stage)
    # Log/metrics: above everything that answers, so every reply is recorded exactly once.
    stage = LogStage(stage, querylog, metrics, clock)
    return stage
