"""Cap every TTL in a finished answer, so a child's device asks again before its rules change.

The answer comes from the shared cache already patched for this moment; capping works on the
bytes (the OPT record's TTL field holds flags, not a TTL, and is left alone).
"""

from __future__ import annotations

import struct

from filterd.wire import HEADER, T_OPT, read_name

_TYPE_TTL = struct.Struct("!HHI")


def cap_ttls(wire: bytes, cap: int) -> bytes:
    """The answer with each record's TTL lowered to at most `cap` seconds."""
    _, _, qd, an, ns, ar = HEADER.unpack_from(wire)
    pos = 12
    for _ in range(qd):
        _, pos = read_name(wire, pos)
        pos += 4
    out: bytearray | None = None
    for _ in range(an + ns + ar):
        _, pos = read_name(wire, pos)
        rtype, _, ttl = _TYPE_TTL.unpack_from(wire, pos)
        if ttl > cap and rtype != T_OPT:
            if out is None:
                out = bytearray(wire)
            struct.pack_into("!I", out, pos + 4, cap)
        pos += 10 + (wire[pos + 8] << 8 | wire[pos + 9])
    return wire if out is None else bytes(out)
