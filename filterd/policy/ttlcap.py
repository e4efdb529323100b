"""Cap every TTL in a finished answer, so a child's device asks again before its rules change.

The answer comes from the shared cache already patched for this moment; capping works on the
bytes (the OPT record's TTL field holds flags, not a TTL, and is left alone). It runs for every
answer to a child's device, so names are skipped, not read: the answer was built by filterd
and is well formed, and owners are mostly a 2-byte pointer to the question.
"""

from __future__ import annotations

import struct

from filterd.dns.wire import T_OPT

_TTL = struct.Struct("!I")
_COUNTS = struct.Struct("!HHH")
_FIXED = struct.Struct("!HHIH")  # type, class, TTL, RDATA length


def cap_ttls(wire: bytes, cap: int, start: int) -> bytes:
    """The answer with each record's TTL lowered to at most `cap` seconds.

    `start` is where the records begin: 12 + the length of the question.
    """
    an, ns, ar = _COUNTS.unpack_from(wire, 6)
    pos = start
    out: bytearray | None = None
    fixed = _FIXED.unpack_from
    for _ in range(an + ns + ar):
        if wire[pos] >= 0xC0:  # the owner is a pointer (most records filterd writes)
            pos += 2
        else:
            length = wire[pos]
            while length and length < 0xC0:
                pos += length + 1
                length = wire[pos]
            pos += 2 if length else 1
        rtype, _, ttl, rdlength = fixed(wire, pos)
        if ttl > cap and rtype != T_OPT:
            if out is None:
                out = bytearray(wire)
            _TTL.pack_into(out, pos + 4, cap)
        pos += 10 + rdlength
    return wire if out is None else bytes(out)
