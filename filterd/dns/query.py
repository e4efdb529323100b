"""What flows through the chain: one Query in, one Reply out.

Both are NamedTuples rather than frozen dataclasses: equally immutable, and about four times
cheaper to build, which matters at 100,000 queries a second.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable
from typing import NamedTuple, Protocol

from filterd.dns.wire import Edns


class Transport(enum.Enum):
    UDP = "udp"
    TCP = "tcp"


class Reason(enum.StrEnum):
    """Why an answer is what it is; shown in the query log and the metrics.

    A StrEnum because it is hashed for every answer (metrics): a plain Enum hashes in Python.

    Adding a reason (tests/unit/test_reason_tables.py fails until the tables below and the
    child's are filled in): the member here; if it refuses the name, its place in
    BLOCKING_REASONS (filterd.db rebuilds its blocked-entries index on open), a BLOCK_LABELS
    label, and whether it is in ASKABLE_REASONS and ROUTINE_REASONS; where filterd.rules.decide
    gives it; the child's sentence (dashboard/child_side/why.py SENTENCES) and, if a child
    cannot ask about it, a "not now" message (dashboard/child_side/app.py NOT_NOW); README's
    "Precedence" table if decide gives it a row of its own.
    """

    FORWARDED = "forwarded"  # fresh from an upstream
    CACHED = "cached"  # from the cache
    STALE = "stale"  # every upstream failed; an expired answer was served (RFC 8767)
    LOCAL = "local"  # answered by filterd itself (RFC 8482 ANY, private reverse lookups)
    REBINDING = "rebinding"  # a public name pointed inside the home; answered empty
    NO_UPSTREAM = "no_upstream"  # no upstream answered: SERVFAIL
    NOT_RECURSIVE = "not_recursive"  # RD=0 and not in the cache: REFUSED, never forwarded
    MALFORMED = "malformed"  # FORMERR, NOTIMP or BADVERS: the query could not be resolved
    BLOCKED = "blocked"  # a blocked category (the household's, or the child's: see the EDE)
    HELPLINE = "helpline"  # a support service: never blocked, never written to the query log
    # A child's own rules (filterd.rules.decide has the order in which they apply):
    PAUSED = "paused"  # a carer paused the child's internet
    OFFLINE = "offline"  # inside an offline window (bedtime)
    DENIED = "denied"  # on the child's deny list
    WALLED_GARDEN = "walled_garden"  # walled-garden mode and not on the allow list
    LIMIT = "limit"  # a daily limit (overall or the category's) is spent
    SAFE_SEARCH = "safe_search"  # a search engine or YouTube answered with its safe variant


# Reasons that refused the name: what "blocked" means in the query log, the review queue and
# every count of blocked requests. The order is the one filterd.db's partial index is written in.
BLOCKING_REASONS: tuple[Reason, ...] = (
    Reason.BLOCKED,
    Reason.DENIED,
    Reason.WALLED_GARDEN,
    Reason.LIMIT,
    Reason.OFFLINE,
    Reason.PAUSED,
)
# Why a request was blocked, as a carer reads it (the dashboard shows these, never the value).
BLOCK_LABELS: dict[Reason, str] = {
    Reason.BLOCKED: "Blocked category",
    Reason.DENIED: "On the deny list",
    Reason.WALLED_GARDEN: "Not on the allow list (walled garden)",
    Reason.LIMIT: "Daily limit reached",
    Reason.OFFLINE: "Bedtime",
    Reason.PAUSED: "Paused",
}
# Blocks a carer's "yes" to one site can lift (an allow_site override ranks above them), so the
# block page lets the child ask; a pause or bedtime is lifted from the child's card instead.
ASKABLE_REASONS: frozenset[Reason] = frozenset(
    {Reason.BLOCKED, Reason.DENIED, Reason.WALLED_GARDEN, Reason.LIMIT}
)
# Blocks that follow the child's own day (bedtime, a spent limit or app time, a pause): quiet
# routine rows in the review list, apart from requests in high-risk categories.
ROUTINE_REASONS: frozenset[Reason] = frozenset({Reason.LIMIT, Reason.OFFLINE, Reason.PAUSED})


class Query(NamedTuple):
    """One client question, parsed once at the socket."""

    client: str  # source address
    transport: Transport
    qid: int
    flags: int
    qname: bytes  # wire form, lower case
    qtype: int
    qclass: int
    question: bytes  # question section as received (case kept), echoed in the answer
    edns: Edns | None
    received: float  # monotonic seconds
    key: bytes  # cache key: lower-case question plus the DO and CD bits
    max_size: int  # largest answer the client can take (512, its EDNS size capped, or TCP's)


class Reply(NamedTuple):
    """A complete answer for the client (the server truncates it for UDP if needed)."""

    wire: bytes
    rcode: int
    reason: Reason
    cached: bool
    categories: int = 0  # bit mask of the categories the name is in (filterd.lists.categories)
    child: str = ""  # the child whose rules answered; "" for household rules only
    service: str = ""  # the app (filterd.catalogue id) the name belongs to; "" for none


class Stage(Protocol):
    """One step of the DNS path; filterd.chain.build_chain names every step, in order.

    The contract every stage keeps:
    - It either answers the Query itself or passes it to the stage below it (given when it
      was built) and returns what that returned, possibly changed.
    - It returns the Reply itself when the answer is known without waiting (a cache hit is
      answered inside the socket's callback, no task created), else an awaitable of one.
      Callers test `type(reply) is Reply`: return a Reply, never a subclass.
    - It never raises for a bad name or a failed upstream: it answers (SERVFAIL, REFUSED,
      a blocked answer) instead; a bug that raises costs one query, never the server.
    - A Reply's wire echoes the query's ID, flags it must copy (RD, CD) and question. A stage
      that changes a Reply from below keeps the fields it did not decide: it may cap TTLs in
      the wire and set reason, categories or child, and leaves rcode and cached as they came.
    """

    def __call__(self, query: Query) -> Reply | Awaitable[Reply]: ...
