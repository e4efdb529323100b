"""Client-agnostic answer cache holding encoded sections, answered by patching bytes.

A hit costs a dict lookup, a header pack and a concatenation: the sections after the question
are stored encoded, with the offset of every TTL, and re-patched at most once a second.
"""

from __future__ import annotations

import struct
from collections import OrderedDict

from filterd.dns.records import Encoded
from filterd.forward.settings import CacheLimits

_ENTRY_OVERHEAD = 700  # bytes of Python objects around each entry (slots, headers, LRU slot)
_PER_RECORD = 48  # a TTL offset and a TTL value: tuple slots and an int object
_TTL = struct.Struct("!I")
STALE_TTL = 30  # RFC 8767 recommends 30 s for stale answers


class Entry:
    """One cached answer: rcode, upstream flags and the encoded sections after the question."""

    __slots__ = (
        "body",
        "counts",
        "expires",
        "patched",
        "patched_at",
        "rcode",
        "size",
        "stale_until",
        "stored",
        "ttl_offsets",
        "ttls",
        "upstream_flags",
    )

    def __init__(
        self,
        rcode: int,
        upstream_flags: int,
        encoded: Encoded,
        stored: int,
        ttl: int,
        stale_max_age: int,
    ) -> None:
        self.rcode = rcode
        self.upstream_flags = upstream_flags
        self.body = encoded.body
        self.counts = encoded.counts
        self.ttl_offsets = encoded.ttl_offsets
        self.ttls = encoded.ttls
        self.stored = stored
        self.expires = stored + ttl
        self.stale_until = self.expires + stale_max_age
        # The body twice (as stored and as last patched), the TTL tables, the key and the
        # Python objects around them: measured with tracemalloc, within 20% for 1-30 records.
        self.size = 2 * len(encoded.body) + _PER_RECORD * len(encoded.ttls) + _ENTRY_OVERHEAD
        self.patched = encoded.body
        self.patched_at = stored

    def body_at(self, now: int) -> bytes:
        """The sections with every TTL counted down to `now` (whole seconds)."""
        if now != self.patched_at:
            age = now - self.stored
            body = bytearray(self.body)
            for offset, ttl in zip(self.ttl_offsets, self.ttls, strict=True):
                _TTL.pack_into(body, offset, ttl - age if ttl > age else 0)
            self.patched = bytes(body)
            self.patched_at = now
        return self.patched

    def stale_body(self) -> bytes:
        """The sections with every TTL set to 30 s, for serve-stale (RFC 8767)."""
        body = bytearray(self.body)
        for offset in self.ttl_offsets:
            _TTL.pack_into(body, offset, STALE_TTL)
        return bytes(body)


class AnswerCache:
    """LRU bounded in entries and bytes; expired entries linger for serve-stale."""

    def __init__(self, limits: CacheLimits) -> None:
        self.limits = limits
        # Read without a call by CacheStage on every query: emptied in place, never replaced.
        self.entries: OrderedDict[bytes, Entry] = OrderedDict()
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, key: bytes, now: int) -> Entry | None:
        """A fresh entry, or None (counted as a miss). Expired entries stay for stale use.

        CacheStage does the same without the call (filterd.forward.cache_stage)."""
        entry = self.entries.get(key)
        if entry is not None and now < entry.expires:
            self.entries.move_to_end(key)
            self.hits += 1
            return entry
        self.misses += 1
        return None

    def get_stale(self, key: bytes, now: int) -> Entry | None:
        """An expired entry still within the stale window, or None."""
        entry = self.entries.get(key)
        if entry is not None and now < entry.stale_until:
            return entry
        return None

    def put(self, key: bytes, entry: Entry) -> None:
        old = self.entries.pop(key, None)
        if old is not None:
            self.bytes -= old.size
        entry.size += len(key)
        self.entries[key] = entry
        self.bytes += entry.size
        self._shrink()

    def resize(self, limits: CacheLimits) -> None:
        """Apply new bounds from a reloaded config, evicting down to them."""
        self.limits = limits
        self._shrink()

    def _shrink(self) -> None:
        limits = self.limits
        while self.entries and (
            len(self.entries) > limits.max_entries or self.bytes > limits.max_bytes
        ):
            _, evicted = self.entries.popitem(last=False)
            self.bytes -= evicted.size
            self.evictions += 1

    def clear(self) -> None:
        self.entries.clear()
        self.bytes = 0
