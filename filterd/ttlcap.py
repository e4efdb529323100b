"""Cap every TTL in a finished answer, so a child's device asks again before its rules change.

The answer comes from the shared cache already patched for this moment; capping works on the
bytes (the OPT record's TTL field holds flags, not a TTL, and is left alone). It runs for every
answer to a child's device, so names are skipped, not read: the answer was built by filterd
and is well formed, and owners are mostly a 2-byte pointer to the question.
"""

from __future__ import annotations

import struct

from filterd.wire import T_OPT

_TTL = struct.Struct("!I")
_COUNTS = struct.Struct("!HHH")


def cap_ttls(wire: bytes, cap: int, start: int) -> bytes:
    """The answer with each record's TTL lowered to at most `cap` seconds.

    `start` is where the records begin: 12 + the length of the question.
    """
    an, ns, ar = _COUNTS.unpack_from(wire, 6)
    pos = start
    out: bytearray | None = None
    for _ in range(an + ns + ar):
        while True:  # skip the owner name
            length = wire[pos]
            if length >= 0xC0:
                pos += 2
                break
            pos += length + 1
            if length == 0:
                break
        if _TTL.unpack_from(wire, pos + 4)[0] > cap and (wire[pos] << 8 | wire[pos + 1]) != T_OPT:
            if out is None:
                out = bytearray(wire)
            _TTL.pack_into(out, pos + 4, cap)
        pos += 10 + (wire[pos + 8] << 8 | wire[pos + 9])
    return wire if out is None else bytes(out)
