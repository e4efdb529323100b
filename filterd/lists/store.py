"""The index in force: opened at start, swapped when a newer file appears, never left empty.

The daemon polls the index file's identity every couple of seconds; a new file (written by
`filterd lists update` beside the old one and renamed over it) is read, verified and swapped in
between two queries, so no query is dropped. A file that fails its checks is logged once (not
again until the file changes) and the previous index stays in force.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from filterd.dns.wire import suffixes
from filterd.lists.categories import BY_ID
from filterd.lists.index import BlockIndex
from filterd.lists.patterns import EMPTY, NamePatterns

log = logging.getLogger(__name__)

MEMO_LIMIT = 200_000  # names whose categories are remembered between index swaps
HELPLINE = 1 << 31  # set in a name's mask when it is (under) a helpline domain
ILLEGAL = 1 << BY_ID["illegal"].bit  # outranks everything, a helpline entry included
# What an essential name (school platforms, app stores, NHS, gov.uk) keeps of the categories
# its lists give it: only `illegal`, which always wins. No other list can block it.
ESSENTIAL_KEEPS = ILLEGAL
_HELPLINE_KIND, _ESSENTIAL_KIND = 1, 2


class ListStore:
    """Categories of a name from the current index and the name patterns, memoised per name,
    with helplines marked and essential names cleared of every list category but illegal."""

    def __init__(
        self,
        path: Path,
        helplines: frozenset[bytes] = frozenset(),
        essential: frozenset[bytes] = frozenset(),
        patterns: NamePatterns = EMPTY,
    ) -> None:
        """helplines: wire names of support services; they and their subdomains get HELPLINE.
        essential: wire names (and subdomains) no list may block, short of illegal content."""
        self.path = path
        self.index: BlockIndex | None = None
        # Masks of names already looked up; the policy stage reads this itself, before any
        # call. A new dict (never cleared in place) when the index or the protected names change.
        self.masks: dict[bytes, int] = {}
        self.swaps = 0
        self.swap_failures = 0
        self._refused: tuple[int, int, int] | None = None  # the bad file already reported
        self.protect(helplines, essential, patterns)

    def protect(
        self, helplines: frozenset[bytes], essential: frozenset[bytes], patterns: NamePatterns
    ) -> None:
        """Adopt new helplines, essential names and patterns (dropping the per-name memo)."""
        kinds = dict.fromkeys(essential, _ESSENTIAL_KIND)
        kinds.update(dict.fromkeys(helplines, _HELPLINE_KIND))  # a helpline wins over essential
        self._kinds = kinds
        self.patterns = patterns
        self.masks = {}

    @property
    def domains(self) -> int:
        return self.index.domains if self.index is not None else 0

    def categories(self, qname: bytes) -> int:
        """Category mask of a lower-case wire name (0 when no index is loaded)."""
        mask = self.masks.get(qname)
        if mask is None:
            index = self.index
            mask = index.categories(qname) if index is not None else 0
            kind = self._kind(qname)
            if kind == _HELPLINE_KIND:
                # A name on an illegal-content list is never a helpline, whoever listed it as
                # one: it stays blocked and is logged like any other illegal-tier block.
                if not mask & ILLEGAL:
                    mask |= HELPLINE
            elif kind == _ESSENTIAL_KIND:
                mask &= ESSENTIAL_KEEPS
            else:
                mask |= self.patterns.mask(qname)
            if len(self.masks) >= MEMO_LIMIT:
                self.masks.clear()
            self.masks[qname] = mask
        return mask

    def is_essential(self, qname: bytes) -> bool:
        """Whether the name is (under) an essential name and not a helpline: the policy adds no
        app category to it, so no category blocks it (a carer's choice by name still does)."""
        return self._kind(qname) == _ESSENTIAL_KIND

    def _kind(self, qname: bytes) -> int:
        """Helpline when the name or any parent is one, else essential when one is; 0 otherwise.
        A helpline under an essential domain, or above an essential name, stays a helpline."""
        found = 0
        kinds = self._kinds
        if kinds:
            for suffix in suffixes(qname):
                kind = kinds.get(suffix, 0)
                if kind == _HELPLINE_KIND:
                    return kind
                found |= kind
        return found

    def refresh(self) -> bool:
        """Open the index file if it is new; True when a new index was swapped in."""
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return False
        identity = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if self.index is not None and self.index.identity == identity:
            return False
        if identity == self._refused:
            return False  # said once; said again only when the file changes
        try:
            fresh = BlockIndex(self.path)
        except (OSError, ValueError) as err:
            self.swap_failures += 1
            self._refused = identity
            keeping = "keeping the previous one" if self.index else "none loaded yet"
            log.error("blocklist index %s cannot be used, %s: %s", self.path, keeping, err)
            return False
        self._refused = None
        old, self.index = self.index, fresh
        self.masks = {}
        self.swaps += 1
        if old is not None:
            old.close()
        log.info(
            "blocklist index loaded: %d domains, %d exceptions", fresh.domains, fresh.exceptions
        )
        return True

    def close(self) -> None:
        if self.index is not None:
            self.index.close()
            self.index = None
