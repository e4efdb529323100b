"""The catalogue in force, as frozen values, and the lookup from a query name to its service.

A name belongs to the service whose domain is its closest listed parent (the most specific
name wins). Names several services need (a Google or Apple login, a shared CDN) are listed as
shared: a shared name, and every name under it that no more specific service entry claims,
belongs to no service, so blocking one service never blocks it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

KNOWLEDGE = "knowledge"  # `source`: written from knowledge, not a live check (see SOURCE_TEXT)
KNOWLEDGE_TEXT = (
    "From knowledge of the service's published domains, not verified live from this machine."
)
MEMO_LIMIT = 100_000  # names whose service is remembered (a home asks the same names all day)
UNSEEN = object()
"""What `Catalogue.seen` answers for a name not looked up yet (None means: no service)."""


@dataclass(frozen=True, slots=True)
class Service:
    """One app or site a carer can allow, block, schedule or limit by name."""

    id: str  # stable: used in rules files, usage counts and the query log
    name: str  # what a carer reads: "TikTok"
    kind: str  # how the Apps screen groups it: social, gaming, app_store...
    category: str | None  # the filterd category whose block also blocks it (None: no category)
    mask: int  # that category's bit (0 for none)
    domains: tuple[str, ...]
    checked: date
    source: str  # KNOWLEDGE, or the URL of the service's own published network requirements
    note: str = ""

    @property
    def source_text(self) -> str:
        if self.source == KNOWLEDGE:
            return KNOWLEDGE_TEXT
        return f"The service's published network requirements: {self.source}"


@dataclass(slots=True)
class Catalogue:
    """Services by id, plus a map from each listed wire name to its service (None: shared)."""

    services: dict[str, Service]
    shared: dict[str, str]  # shared domain -> who shares it, in plain words
    most_common: tuple[str, ...]
    names: dict[bytes, Service | None]
    # Names already looked up: the policy stage reads this itself, before any call.
    seen: dict[bytes, Service | None] = field(default_factory=dict, repr=False)

    def service_of(self, qname: bytes) -> Service | None:
        """The service a lower-case wire name belongs to, or None (unlisted or shared)."""
        memo = self.seen
        found = memo.get(qname, UNSEEN)
        if found is UNSEEN:
            found = self._walk(qname)
            if len(memo) >= MEMO_LIMIT:
                memo.clear()
            memo[qname] = found
        return found  # type: ignore[return-value]

    def _walk(self, qname: bytes) -> Service | None:
        names = self.names
        pos = 0
        length = qname[0]
        while length:
            hit = names.get(qname[pos:], UNSEEN)
            if hit is not UNSEEN:
                return hit  # type: ignore[return-value]
            pos += length + 1
            length = qname[pos]
        return None


EMPTY = Catalogue({}, {}, (), {})
