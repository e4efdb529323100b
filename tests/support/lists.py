"""Blocklist files, and how a test tells filterd's blocked answer (a null address carrying
Extended DNS Error 17, Filtered)."""

from __future__ import annotations

import struct
from pathlib import Path

from dnslib import DNSRecord

from tests.support.dns_client import addresses

FILTERED = 17  # the Extended DNS Error info-code of a blocked answer (RFC 8914: Filtered)


def write_lists(directory: Path, **lists: list[str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for category, domains in lists.items():
        (directory / f"{category}.txt").write_text("\n".join(domains) + "\n")
    return directory


def ede_codes(reply: DNSRecord) -> list[int]:
    """The info-codes of every Extended DNS Error option (EDNS option 15) in the reply."""
    codes = []
    for rr in reply.ar:
        if rr.rtype == 41:
            for option in rr.rdata:
                if option.code == 15:
                    codes.append(struct.unpack("!H", option.data[:2])[0])
    return codes


def blocked(reply: DNSRecord) -> bool:
    """filterd's blocked answer: the null address, marked Filtered (the client asked with EDNS)."""
    return addresses(reply) == ["0.0.0.0"] and FILTERED in ede_codes(reply)
