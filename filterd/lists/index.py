"""The compiled blocklist index: sorted 64-bit fingerprints and category masks, checksummed.

A Python set of a million domain strings costs about 100 MB; this file costs 12 bytes a domain.
A name is looked up by hashing each of its suffixes (www.example.com, example.com, com) in wire
form, so a listed domain blocks all its subdomains.

The daemon reads the whole file into its own memory and checks its BLAKE2b checksum before
using it: a file memory-mapped from disk can be changed under the reader by any process that
writes to it in place (garbage read as fingerprints lets blocked names through; a truncation
kills the reader with SIGBUS). A private, verified copy cannot change while it answers.

Layout (little-endian): a 64-byte header (magic, counts, a 32-byte BLAKE2b digest of everything
after the header), a fence table of 65,537 u32 (where each value of the top 16 hash bits
starts), the sorted u64 fingerprints, their u32 category masks, then the same three parts for
exceptions (`@@||domain^` lines), which unblock a name and its subdomains for the categories
whose lists carry them.
"""

from __future__ import annotations

import hashlib
import os
import struct
from array import array
from bisect import bisect_left
from collections import Counter
from pathlib import Path
from stat import S_ISREG

from filterd.dns.wire import suffixes

MAGIC = b"FDIX0002"
HEADER = struct.Struct("<8sQQ32s8x")  # magic, domain count, exception count, body digest
DIGEST_SIZE = 32
FENCE_BITS = 16
FENCE_SIZE = (1 << FENCE_BITS) + 1
BUCKETS = 256  # compile partitions by the top 8 bits, so memory stays ~12 bytes a domain


def fingerprint(wire_name: bytes) -> int:
    """Stable 64-bit hash of a lower-case wire-form name (the same in every process)."""
    return int.from_bytes(hashlib.blake2b(wire_name, digest_size=8).digest(), "little")


_LENGTH_BYTE = [bytes((n,)) for n in range(256)]


def domain_to_wire(domain: str) -> bytes:
    """Wire form of a normalised (lower-case, ASCII, no trailing dot) domain."""
    length = _LENGTH_BYTE
    return b"".join([length[len(label)] + label for label in domain.encode().split(b".")]) + (
        b"\x00"
    )


class _Table:
    """Fingerprints and masks of one kind (blocks or exceptions), bucketed while compiling.

    Plain arrays (12 bytes an entry) rather than dicts (about 100), so compiling millions of
    domains fits beside the running daemon on a 512 MB Pi; duplicates merge when sorted.
    """

    def __init__(self) -> None:
        self.hashes = [array("Q") for _ in range(BUCKETS)]
        self.masks = [array("I") for _ in range(BUCKETS)]

    def add(self, domain: str, mask: int) -> None:
        h = fingerprint(domain_to_wire(domain))
        self.hashes[h >> 56].append(h)
        self.masks[h >> 56].append(mask)

    def arrays(self) -> tuple[array, array, array]:
        """(fence, sorted distinct fingerprints, their OR-ed masks)."""
        hashes, masks = array("Q"), array("I")
        low = 0xFFFFFFFF
        for bucket_hashes, bucket_masks in zip(self.hashes, self.masks, strict=True):
            # One int per entry (fingerprint above, mask below) sorts at C speed.
            for pair in sorted(
                [h << 32 | m for h, m in zip(bucket_hashes, bucket_masks, strict=True)]
            ):
                h = pair >> 32
                if hashes and hashes[-1] == h:
                    masks[-1] |= pair & low
                else:
                    hashes.append(h)
                    masks.append(pair & low)
        shift = 64 - FENCE_BITS
        fence = array("I", (bisect_left(hashes, top << shift) for top in range(FENCE_SIZE - 1)))
        fence.append(len(hashes))
        return fence, hashes, masks


class IndexBuilder:
    """Collects (domain, category bit) pairs and writes an index file atomically."""

    def __init__(self) -> None:
        self.blocked = _Table()
        self.excepted = _Table()
        self.per_bit: dict[int, int] = {}  # distinct blocked domains per category bit, by write

    def add_name(self, domain: str, bit: int, exception: bool = False) -> None:
        (self.excepted if exception else self.blocked).add(domain, 1 << bit)

    def write(self, path: Path) -> int:
        """Write to path (temp file, fsync, rename); return the number of distinct domains."""
        blocked = self.blocked.arrays()
        excepted = self.excepted.arrays()
        self.per_bit = _per_bit(blocked[2])
        tmp = path.with_name(path.name + ".tmp")
        path.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.blake2b(digest_size=DIGEST_SIZE)
        for table in (blocked, excepted):
            for part in table:
                digest.update(memoryview(part).cast("B"))
        with open(tmp, "wb") as out:
            out.write(HEADER.pack(MAGIC, len(blocked[1]), len(excepted[1]), digest.digest()))
            for table in (blocked, excepted):
                for part in table:
                    part.tofile(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
        return len(blocked[1])


def _per_bit(masks: array) -> dict[int, int]:
    """Distinct domains carrying each bit: a domain on two lists of one category counts once,
    so Health's figure is what the category really blocks. Counted per distinct mask (a few
    hundred), not per domain."""
    counts: dict[int, int] = {}
    for mask, domains in Counter(masks).items():
        bit = 0
        while mask:
            if mask & 1:
                counts[bit] = counts.get(bit, 0) + domains
            mask >>= 1
            bit += 1
    return counts


class _View:
    """Read-only view of one table inside the mapped file."""

    def __init__(self, buffer: memoryview, offset: int, count: int) -> None:
        end_fence = offset + 4 * FENCE_SIZE
        self.fence = buffer[offset:end_fence].cast("I")
        end_hashes = end_fence + 8 * count
        self.hashes = buffer[end_fence:end_hashes].cast("Q")
        self.masks = buffer[end_hashes : end_hashes + 4 * count].cast("I")
        self.count = count
        self.end = end_hashes + 4 * count

    def mask(self, h: int) -> int:
        top = h >> (64 - FENCE_BITS)
        hashes = self.hashes
        lo, hi = self.fence[top], self.fence[top + 1]
        if lo == hi:
            return 0
        i = bisect_left(hashes, h, lo, hi)
        return self.masks[i] if i < hi and hashes[i] == h else 0

    def release(self) -> None:
        for view in (self.fence, self.hashes, self.masks):
            view.release()


class DamagedIndex(ValueError):
    """The file is not a whole, unchanged index; the message says why in plain words."""


class BlockIndex:
    """A verified private copy of an index file: categories of a name, with exceptions applied."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # Without blocking (a FIFO put there would stop every answer, as this runs on the event
        # loop), only a regular file, and no more than its size (a link to /dev/zero would
        # read until memory ran out).
        with open(os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC), "rb") as handle:
            stat = os.fstat(handle.fileno())
            if not S_ISREG(stat.st_mode):
                raise DamagedIndex("not a regular file")
            data = handle.read(stat.st_size + 1)
        self.identity = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if len(data) < HEADER.size:
            raise DamagedIndex("too short to be an index (cut short?)")
        magic, count, exceptions, digest = HEADER.unpack_from(data)
        if magic != MAGIC:
            raise DamagedIndex("not a filterd index of this version")
        expected = HEADER.size + 2 * 4 * FENCE_SIZE + 12 * (count + exceptions)
        if len(data) != expected:
            raise DamagedIndex(f"{len(data)} bytes where its header says {expected} (cut short?)")
        body = memoryview(data)[HEADER.size :]
        if hashlib.blake2b(body, digest_size=DIGEST_SIZE).digest() != digest:
            raise DamagedIndex("checksum does not match: the file was changed or damaged on disk")
        buffer = memoryview(data)
        self._buffer = buffer
        self._blocked = _View(buffer, HEADER.size, count)
        self._excepted = _View(buffer, self._blocked.end, exceptions)
        self.domains = count
        self.exceptions = exceptions

    def categories(self, qname: bytes) -> int:
        """Category mask for a lower-case wire name: the most specific listed suffix decides
        for each category, and an exception at the same or a more specific level unblocks."""
        blocked = decided = 0
        with_exceptions = self.exceptions > 0
        for suffix in suffixes(qname):
            h = fingerprint(suffix)
            allow = self._excepted.mask(h) & ~decided if with_exceptions else 0
            block = self._blocked.mask(h) & ~decided & ~allow
            blocked |= block
            decided |= allow | block
        return blocked

    def close(self) -> None:
        """Release the views (after the daemon has swapped in a newer index)."""
        self._blocked.release()
        self._excepted.release()
        self._buffer.release()
