"""Every step a packet takes, wired in this one place. Each line says why the step sits there.

A packet from the sockets meets, in order: access control, the rate limit, parsing and
truncation, with the per-client waiting cap for answers that must wait (filterd.serve.admission,
on packets), then the Stages
(filterd.dns.query.Stage, on Queries): log, local answers (the box's own names among them),
policy, cache, upstream.

Identify (address -> device -> child profile) and safe search live inside the policy stage:
a Query is immutable and the profile is needed only there, so identifying is one memoised
lookup in policy rather than a stage of its own; safe search answers through the cache below.
The cache stays below them so one child's answer can never leak to another.
"""

from __future__ import annotations

from typing import NamedTuple

from filterd.clock import Clock
from filterd.dns.query import Stage
from filterd.forward.cache import AnswerCache
from filterd.forward.cache_stage import CacheStage
from filterd.forward.metrics import ForwardCounters
from filterd.forward.settings import CacheLimits
from filterd.forward.upstream import UpstreamClient
from filterd.forward.upstream_stage import RebindingPolicy, UpstreamStage
from filterd.lists.service import Blocklists
from filterd.metrics import Metrics
from filterd.policy.box_names import BoxNames
from filterd.policy.local_answers import LocalAnswers
from filterd.policy.policy_stage import PolicyStage
from filterd.querylog.log_stage import LogStage
from filterd.querylog.queue import QueryLog
from filterd.rules.service import RulesService
from filterd.selftest.marker import OwnProbe
from filterd.serve.acl import ClientAcl
from filterd.serve.admission import (
    OUTSIDERS,
    AccessControl,
    PacketStage,
    Parse,
    QueryToWire,
    RateLimit,
    RefuseOutsiders,
    Truncate,
    WaitingCap,
)
from filterd.serve.metrics import ServeCounters
from filterd.serve.ratelimit import RateLimiter


class Chain(NamedTuple):
    handle: PacketStage  # what the sockets call with each packet
    upstream: UpstreamStage  # a config reload changes its cache limits and rebinding policy
    box_names: BoxNames  # a config reload changes the box's names and addresses
    # The cache and upstream below policy: the per-profile self-test puts its own policy
    # stage on top (filterd.selftest.profiles), so it asks the real path as a child's device.
    below_policy: Stage


def build_chain(
    *,
    acl: ClientAcl,
    limiter: RateLimiter,
    upstream_client: UpstreamClient,
    limits: CacheLimits,
    rebinding: RebindingPolicy,
    cache: AnswerCache,
    blocklists: Blocklists,
    rules: RulesService,
    querylog: QueryLog,
    metrics: Metrics,
    serve_counters: ServeCounters,
    forward_counters: ForwardCounters,
    clock: Clock,
    box_names: tuple[list[str], list[str]] = (["filterd.home.arpa"], []),
    own_probe: OwnProbe | None = None,
) -> Chain:
    """Compose the steps, innermost first. Each is handed the one below as a bound method
    (`.__call__`): calling that costs half as much as calling the object, on every query."""
    # Upstream: the only stage that leaves the box, at the bottom so each answer is cleaned
    # once per cache miss (bailiwick, rebinding, negative TTLs) and cached already safe.
    upstream = UpstreamStage(upstream_client, limits, rebinding, forward_counters)
    # Cache: client-agnostic, above the upstream so a hit never leaves the box.
    stage: Stage = CacheStage(cache, upstream.__call__, clock).__call__
    below_policy = stage
    # Policy (identify, the precedence table, safe search, TTL caps): above the cache, so a
    # blocked name is answered locally (even with every upstream down) and one device's
    # decision never reaches another through a cached answer.
    stage = PolicyStage(stage, blocklists, rules, clock).__call__
    # Local answers (canaries, ANY, private reverse zones, the box's own names): above policy,
    # because the DoH and Private Relay canaries must get exactly NXDOMAIN whatever lists name
    # those domains, and no list may block the way to the dashboard (filterd.home.arpa).
    own = BoxNames(*box_names)
    stage = LocalAnswers(stage, own).__call__
    # Log/metrics: above everything that answers, so every reply is recorded exactly once
    # (Parse hands it the queries it answers itself: FORMERR, NOTIMP, BADVERS).
    log = LogStage(stage, querylog, metrics, clock, own_probe)
    stage = log.__call__
    # Waiting cap: on every answer that must wait, before it is started, so one client's slow
    # names cannot hold every upstream socket; an answer ready at once never meets it.
    waiting = WaitingCap(serve_counters).__call__
    # Truncation: above the log, so the log and every stage see the whole answer; a UDP
    # client given a TC=1 stub asks again over TCP. It hands answers that must wait to the cap.
    wire: QueryToWire = Truncate(stage, waiting).__call__
    # Parse: bytes become a Query once; a malformed packet is answered here (FORMERR) and no
    # stage below ever sees it. It also marks the household self-test's own questions
    # (loopback and this start's secret) for the log to skip (filterd.selftest.marker).
    inside: PacketStage = Parse(wire, serve_counters, clock, log.rejected, own_probe).__call__
    # Rate limit: before parsing, so a flood costs one bucket update per packet.
    limit = RateLimit(inside, limiter, serve_counters, clock)
    # Outsiders share one bucket (spoofed sources cannot reset anyone's limit), then learn
    # nothing but REFUSED.
    outside = RateLimit(
        RefuseOutsiders(serve_counters).__call__, limiter, serve_counters, clock, OUTSIDERS
    )
    # Access control first: filterd is never an open resolver.
    admit = AccessControl(acl, limit.__call__, outside.__call__)
    # With the limit off (queries_per_second: 0), insiders' packets go from access control
    # to Parse, until a reload turns it on.
    limit.left_out_while_off(admit)
    return Chain(admit.__call__, upstream, own, below_policy)
