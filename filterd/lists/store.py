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

log = logging.getLogger(__name__)

MEMO_LIMIT = 200_000  # names whose categories are remembered between index swaps
HELPLINE = 1 << 31  # set in a name's mask when it is (under) a helpline domain
ILLEGAL = 1 << BY_ID["illegal"].bit  # outranks everything, a helpline entry included


class ListStore:
    """Categories of a name from the current index, memoised per name."""

    def __init__(self, path: Path, helplines: frozenset[bytes] = frozenset()) -> None:
        """helplines: wire names of support services; they and their subdomains get HELPLINE."""
        self.path = path
        self.helplines = helplines
        self.index: BlockIndex | None = None
        self._memo: dict[bytes, int] = {}
        self.swaps = 0
        self.swap_failures = 0
        self._refused: tuple[int, int, int] | None = None  # the bad file already reported

    @property
    def domains(self) -> int:
        return self.index.domains if self.index is not None else 0

    def categories(self, qname: bytes) -> int:
        """Category mask of a lower-case wire name (0 when no index is loaded)."""
        mask = self._memo.get(qname)
        if mask is None:
            index = self.index
            mask = index.categories(qname) if index is not None else 0
            helplines = self.helplines
            # A name on an illegal-content list is never a helpline, whoever listed it as one:
            # it stays blocked and is logged like any other illegal-tier block.
            if (
                helplines
                and not mask & ILLEGAL
                and any(suffix in helplines for suffix in suffixes(qname))
            ):
                mask |= HELPLINE
            if len(self._memo) >= MEMO_LIMIT:
                self._memo.clear()
            self._memo[qname] = mask
        return mask

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
        self._memo = {}
        self.swaps += 1
        if old is not None:
            old.close()
        log.info(
            "blocklist index loaded: %d domains, %d exceptions", fresh.domains, fresh.exceptions
        )
        return True

    def forget(self) -> None:
        """Drop the per-name memo (after the helplines changed)."""
        self._memo = {}

    def close(self) -> None:
        if self.index is not None:
            self.index.close()
            self.index = None
