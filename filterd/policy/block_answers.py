"""Answers for blocked names: a null address, NXDOMAIN, or the block page's address.

Blocked answers carry a short TTL so an unblock takes effect quickly, and, when the client
sent EDNS, an Extended DNS Error (RFC 8914): 15 Blocked for the household's lists, 17 Filtered
for a child's own rules, with the categories as extra text.
"""

from __future__ import annotations

import enum
import struct
from typing import NamedTuple

from filterd.dns.query import Query
from filterd.dns.wire import (
    HEADER,
    NOERROR,
    NXDOMAIN,
    RR_FIXED,
    T_A,
    T_AAAA,
    opt_record,
    reply_flags,
)

EDE_OPTION = 15
EDE_BLOCKED = 15
EDE_FILTERED = 17


class BlockStyle(enum.StrEnum):
    NULL = "null_ip"  # 0.0.0.0 / ::, the browser fails at once
    NXDOMAIN = "nxdomain"  # "this site does not exist"
    BLOCK_PAGE = "block_page"  # the dashboard's address, which explains the block


class BlockAnswers(NamedTuple):
    """How blocked names are answered (from the config)."""

    style: BlockStyle
    ttl: int
    page_v4: bytes | None  # packed addresses of the block page
    page_v6: bytes | None


def blocked_answer(query: Query, how: BlockAnswers, ede_code: int, text: str) -> tuple[bytes, int]:
    """(wire, rcode) of the answer to a blocked query."""
    if how.style is BlockStyle.NXDOMAIN:
        rcode, address = NXDOMAIN, None
    elif query.qtype == T_A:
        rcode, address = NOERROR, how.page_v4 if how.style is BlockStyle.BLOCK_PAGE else bytes(4)
    elif query.qtype == T_AAAA:
        rcode = NOERROR
        address = how.page_v6 if how.style is BlockStyle.BLOCK_PAGE else bytes(16)
    else:
        rcode, address = NOERROR, None  # other types: an empty answer (NODATA)
    body = b""
    if address is not None:
        body = b"\xc0\x0c" + RR_FIXED.pack(query.qtype, 1, how.ttl, len(address)) + address
    opt = b""
    if query.edns is not None:
        extra = text.encode()
        option = struct.pack("!HHH", EDE_OPTION, 2 + len(extra), ede_code) + extra
        opt = opt_record(query.edns, 0, option)
    flags = reply_flags(query.flags, rcode)
    header = HEADER.pack(query.qid, flags, 1, 1 if body else 0, 0, 1 if opt else 0)
    return header + query.question + body + opt, rcode
