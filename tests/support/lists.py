"""Blocklists for tests: the list files and settings filterd starts with, `filterd lists
update` run as a carer runs it, and how a test tells filterd's blocked answer (a null address
carrying Extended DNS Error 17, Filtered)."""

from __future__ import annotations

import struct
import subprocess
import time
from pathlib import Path

from dnslib import DNSRecord

from tests.support.dns_client import addresses, ask
from tests.support.filterd_process import run_cli

FILTERED = 17  # the Extended DNS Error info-code of a blocked answer (RFC 8914: Filtered)


def write_lists(directory: Path, **lists: list[str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for category, domains in lists.items():
        (directory / f"{category}.txt").write_text("\n".join(domains) + "\n")
    return directory


def lists_config(tmp_path: Path, shipped: Path, **extra) -> dict:
    """filterd settings for lists: `shipped` as the shipped lists, downloads kept in
    tmp_path/lists and never refreshed on their own, adult and gambling blocked for the
    household; `extra` adds or replaces top-level settings."""
    config = {
        "lists_update": {
            "directory": str(tmp_path / "lists"),
            "shipped": str(shipped),
            "refresh_hours": 0,
        },
        "block_categories": ["adult", "gambling"],
    }
    config.update(extra)
    return config


def update_lists(config_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`filterd lists update --config FILE`, run beside the settings file, to completion."""
    return run_cli("lists", "update", "--config", str(config_path), *args, cwd=config_path.parent)


def wait_blocked(port: int, name: str, timeout: float = 6.0) -> None:
    """Ask until filterd answers `name` with the null address (the daemon swaps in a rebuilt
    index within a few seconds); fail naming it when `timeout` passes first."""
    deadline = time.monotonic() + timeout
    while addresses(ask(port, name)) != ["0.0.0.0"]:
        assert time.monotonic() < deadline, f"{name} was not blocked within {timeout} s"
        time.sleep(0.2)


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
