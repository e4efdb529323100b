"""Policy: what may be resolved, for this device, right now. Sits above the cache.

Identify comes first: the client address gives the device's child profile (filterd.rules),
or none for a household device. Either way filterd.rules.decide.judge applies the precedence
table, the only copy of it: a household device is judged with the HOUSEHOLD profile, so only
the household floor (`block_categories`, with `illegal` always in it) can block it. A child's
allowed answers go through safe search and have every TTL capped at the next change of that
child's rules. Every reply carries the categories its name is in and the app it belongs to
(filterd.catalogue), for the query log; an app's names carry its category too, so blocking
`social` blocks TikTok's API and CDN names.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Protocol

from filterd.catalogue.model import UNSEEN, Service
from filterd.clock import Clock
from filterd.dns.block_answers import (
    EDE_BLOCKED,
    BlockStyle,
    BoxAddress,
    block_page_answers,
    blocked_answer,
)
from filterd.dns.query import Query, Reason, Reply, Stage
from filterd.dns.wire import new_tuple
from filterd.lists.service import Blocklists
from filterd.policy.safesearch import REWRITTEN_TYPES, SafeSearchAnswers
from filterd.policy.ttlcap import cap_ttls
from filterd.rules.child_state import ChildState
from filterd.rules.decide import HOUSEHOLD, NOTHING_IN_FORCE, Verdict, judge
from filterd.rules.identify import Identify
from filterd.rules.model import Profile


class Identifies(Protocol):
    """Where the stage finds the Identify in force on each query: the RulesService (which
    swaps it when the rules file changes; None without one), or the per-profile self-test's
    own (filterd.selftest.profiles: every address is the child's device)."""

    identify: Identify | None


class PolicyStage:
    """Household floor for every device; the child's profile for a child's device."""

    def __init__(self, below: Stage, lists: Blocklists, rules: Identifies, clock: Clock) -> None:
        self.below = below
        self.lists = lists  # its floor and answers change on a config reload
        self.store = lists.store
        self.categories = lists.store.categories
        self.apps = lists.apps  # its catalogue is swapped when the file changes
        self.essential = lists.store.is_essential
        self.rules = rules
        self.time = clock.time
        self.safe_search = SafeSearchAnswers(below)
        self.box = BoxAddress()  # the block page's address when none is configured

    def __call__(self, query: Query) -> Reply | Awaitable[Reply]:
        qname = query.qname
        # A name seen before (nearly every query): its mask and app from the two memos, with
        # no call; a new one is looked up (and remembered) by the list store and catalogue.
        mask = self.store.masks.get(qname)
        if mask is None:
            mask = self.categories(qname)
        catalogue = self.apps.current
        service = catalogue.seen.get(qname, UNSEEN)
        if service is UNSEEN:
            service = catalogue.service_of(qname)
        if service is not None and service.mask and not self.essential(qname):
            mask |= service.mask  # an essential name keeps no category, an app's neither
        # Identify: a device seen before (nearly every query) from its memo, with no call;
        # a new one is looked up (and remembered). None: no rules file, household rules.
        identify = self.rules.identify
        if identify is not None:
            child = identify.memo.get(query.client, UNSEEN)
            if child is UNSEEN:
                child = identify.lookup(query.client)
            if child is not None:
                return self._child(query, mask, child, service)
        app = "" if service is None else service.id
        if not mask:  # in no category: no row of the table can block a household device
            if service is None:
                return self.below(query)
            return _mark(self.below(query), service=app)
        verdict = judge(query.qname, mask, HOUSEHOLD, NOTHING_IN_FORCE, self.lists.floor, service)
        if verdict.blocked:
            return self._blocked(query, mask, verdict, HOUSEHOLD, self.lists.answers.ttl, app)
        if verdict.reason is Reason.HELPLINE:
            return _mark(self.below(query), reason=Reason.HELPLINE)
        # Allowed, but the log still says what it is (a social site, a game) for the carers.
        return _mark(self.below(query), categories=mask, service=app)

    def _child(
        self, query: Query, mask: int, child: ChildState, service: Service | None
    ) -> Reply | Awaitable[Reply]:
        now = self.time()
        profile = child.profile
        verdict = judge(query.qname, mask, profile, child.now(now), self.lists.floor, service)
        app = "" if service is None else service.id
        cap = child.ttl_cap(now)
        if verdict.blocked:
            return self._blocked(query, mask, verdict, profile, cap, app)
        if verdict.counts and (
            child.counted != int(now // 60)
            or mask & ~child.counted_mask
            or (app and app not in child.counted_apps)
        ):
            child.note_usage(query.qname, mask, now, app)  # a minute, category or app to count
        target = child.rewrites.get(query.qname) if query.qtype in REWRITTEN_TYPES else None
        reply = self.below(query) if target is None else self.safe_search(query, target)
        helpline = verdict.reason is Reason.HELPLINE
        if type(reply) is not Reply:
            return self._capped_later(query, reply, child, mask, helpline, app)
        return _capped(query, reply, cap, mask, profile.id, helpline, app)

    def _blocked(
        self, query: Query, mask: int, verdict: Verdict, profile: Profile, cap: int, app: str
    ) -> Reply:
        """The blocked answer: the household's style for its own lists (EDE 15), the child's
        style for the child's rules (EDE 17; the household's when the child has none); its TTL
        no longer than `cap`."""
        how = self.lists.answers
        style = how.style if verdict.ede == EDE_BLOCKED else profile.blocked_answer or how.style
        if style is BlockStyle.BLOCK_PAGE:
            # No address configured: the box's own, as this client reaches it.
            page = block_page_answers(how, query.client, self.box)
            if page is None:
                style = BlockStyle.NULL  # no address for the block page: the null address
            else:
                how = page
        if style is not how.style or cap < how.ttl:
            how = how._replace(style=style, ttl=min(how.ttl, cap))
        wire, rcode = blocked_answer(query, how, verdict.ede, verdict.text)
        return Reply(wire, rcode, verdict.reason, False, mask, profile.id, app)

    async def _capped_later(
        self,
        query: Query,
        pending: Awaitable[Reply],
        child: ChildState,
        mask: int,
        helpline: bool,
        app: str,
    ) -> Reply:
        """An upstream answer: its TTL cap is worked out when it arrives, not when asked."""
        reply = await pending
        now = self.time()
        child.now(now)  # counting this query's minute may have ended the situation in force
        cap = child.ttl_cap(now)
        return _capped(query, reply, cap, mask, child.profile.id, helpline, app)


def _capped(
    query: Query, reply: Reply, cap: int, mask: int, child: str, helpline: bool, app: str
) -> Reply:
    """The reply from below with its TTLs capped, marked with the child, categories and app."""
    wire = cap_ttls(reply.wire, cap, 12 + len(query.question))
    reason = Reason.HELPLINE if helpline else reply.reason
    return new_tuple(Reply, (wire, reply.rcode, reason, reply.cached, mask, child, app))


def _mark(reply: Reply | Awaitable[Reply], **changes) -> Reply | Awaitable[Reply]:
    """The reply from below with some fields replaced, now or when it arrives."""
    if type(reply) is Reply:
        return reply._replace(**changes)
    return _mark_later(reply, changes)


async def _mark_later(pending: Awaitable[Reply], changes: dict) -> Reply:
    return (await pending)._replace(**changes)
