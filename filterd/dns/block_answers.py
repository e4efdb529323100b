"""Answers for blocked names: a null address, NXDOMAIN, or the block page's address.

Blocked answers carry a short TTL so an unblock takes effect quickly, and, when the client
sent EDNS, an Extended DNS Error (RFC 8914): 15 Blocked for the household's lists, 17 Filtered
for a child's own rules, with the categories as extra text.
"""

from __future__ import annotations

import enum
import ipaddress
import socket
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
    BLOCK_PAGE = "block_page"  # the box's address, whose plain-HTTP listener explains the block


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


_BOX_MEMO_LIMIT = 4096


class BoxAddress:
    """The box's own address as a client reaches it, for the block page when none is
    configured: the kernel's choice of source address for a reply to that client (a UDP
    socket connected to it; no packet is sent). On a LAN that is the box's LAN address, so
    choosing the block page needs no address typed by hand. Memoised per client."""

    def __init__(self) -> None:
        self.memo: dict[str, bytes | None] = {}

    def toward(self, client: str) -> bytes | None:
        """The packed address of this box's side of the route to `client`, or None."""
        found = self.memo.get(client, b"?")
        if found == b"?":
            if len(self.memo) >= _BOX_MEMO_LIMIT:
                self.memo.clear()
            found = self.memo[client] = _source_toward(client)
        return found


def _source_toward(client: str) -> bytes | None:
    try:
        address = ipaddress.ip_address(client.partition("%")[0])
        family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect((client, 9))
            own = ipaddress.ip_address(probe.getsockname()[0].partition("%")[0])
    except (OSError, ValueError):
        return None
    if isinstance(own, ipaddress.IPv6Address) and own.ipv4_mapped is not None:
        own = own.ipv4_mapped  # an IPv4 client on a dual-stack socket: its A answer
    return None if own.is_unspecified else own.packed


def block_page_answers(how: BlockAnswers, client: str, box: BoxAddress) -> BlockAnswers | None:
    """`how` with the block page's addresses for this client: each family's configured one,
    else the box's own address toward the client in the client's family (an IPv6-only device
    gets the box's IPv6 address in AAAA even when only an IPv4 one is configured); None when
    there is neither."""
    if how.page_v4 is not None and how.page_v6 is not None:
        return how
    own = box.toward(client)
    if own is not None and len(own) == 4 and how.page_v4 is None:
        how = how._replace(page_v4=own)
    elif own is not None and len(own) == 16 and how.page_v6 is None:
        how = how._replace(page_v6=own)
    if how.page_v4 is None and how.page_v6 is None:
        return None
    return how
