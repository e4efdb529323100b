"""Policy: what may be resolved at all. Sits above the cache so decisions are per query.

For now the household floor: categories blocked for every device (`block_categories`, with
`illegal` always in it). Every reply carries all the categories its name is in, blocked or
not, for the query log. Helplines pass whatever the categories say, and are marked so the
log stage keeps them out of the query log. Child profiles (bedtime, limits) extend this stage.
"""

from __future__ import annotations

from collections.abc import Awaitable

from filterd.blocked import EDE_BLOCKED, blocked_answer
from filterd.lists.categories import ids_of
from filterd.lists.service import Blocklists
from filterd.lists.store import HELPLINE
from filterd.query import Query, Reason, Reply, Stage


class PolicyStage:
    """Blocks names in the household's blocked categories; lets helplines through unlogged."""

    def __init__(self, below: Stage, lists: Blocklists) -> None:
        self.below = below
        self.lists = lists  # its floor and answers change on a config reload
        self.categories = lists.store.categories

    def __call__(self, query: Query) -> Reply | Awaitable[Reply]:
        mask = self.categories(query.qname)
        if not mask:
            return self.below(query)
        if mask & HELPLINE:
            return _mark(self.below(query), reason=Reason.HELPLINE)
        blocked = mask & self.lists.floor
        if blocked:
            text = "blocked: " + ", ".join(ids_of(blocked))
            wire, rcode = blocked_answer(query, self.lists.answers, EDE_BLOCKED, text)
            return Reply(wire, rcode, Reason.BLOCKED, False, mask)
        # Allowed, but the log still says what it is (a social site, a game) for the carers.
        return _mark(self.below(query), categories=mask)


def _mark(reply: Reply | Awaitable[Reply], **changes) -> Reply | Awaitable[Reply]:
    """The reply from below with some fields replaced, now or when it arrives."""
    if type(reply) is Reply:
        return reply._replace(**changes)
    return _mark_later(reply, changes)


async def _mark_later(pending: Awaitable[Reply], changes: dict) -> Reply:
    return (await pending)._replace(**changes)
