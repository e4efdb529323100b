"""Blocklist files and the blocked answer's Extended DNS Error codes, for tests."""

from __future__ import annotations

import struct
from pathlib import Path

from dnslib import DNSRecord


def write_lists(directory: Path, **lists: list[str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for category, domains in lists.items():
        (directory / f"{category}.txt").write_text("\n".join(domains) + "\n")
    return directory


def ede_codes(reply: DNSRecord) -> list[int]:
    codes = []
    for rr in reply.ar:
        if rr.rtype == 41:
            for option in rr.rdata:
                if option.code == 15:
                    codes.append(struct.unpack("!H", option.data[:2])[0])
    return codes
