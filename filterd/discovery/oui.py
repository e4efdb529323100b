"""Vendor names from the IEEE registry (Debian's ieee-data), and private MAC addresses.

A phone that uses a private (random) address for this network sets the locally administered
bit of the first octet; it has no vendor, and it looks like a new device whenever it changes.
"""

from __future__ import annotations

import re
from pathlib import Path

OUI_FILES = (Path("/usr/share/ieee-data/oui.txt"), Path("/usr/share/misc/oui.txt"))
_LINE = re.compile(r"^([0-9A-F]{2})-([0-9A-F]{2})-([0-9A-F]{2})\s+\(hex\)\s+(.+?)\s*$")


def is_private(mac: str) -> bool:
    """Locally administered (randomised) rather than a maker's address."""
    return bool(int(mac[:2], 16) & 0x02)


class Vendors:
    """MAC prefix -> organisation, read on first use (about 30,000 lines)."""

    def __init__(self, files: tuple[Path, ...] = OUI_FILES) -> None:
        self.files = files
        self._table: dict[str, str] | None = None

    def _load(self) -> dict[str, str]:
        table: dict[str, str] = {}
        for path in self.files:
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            for line in text.splitlines():
                match = _LINE.match(line)
                if match:
                    table[f"{match[1]}:{match[2]}:{match[3]}".lower()] = match[4]
            break
        return table

    def vendor(self, mac: str) -> str | None:
        if is_private(mac):
            return None
        if self._table is None:
            self._table = self._load()
        return self._table.get(mac[:8])

    @property
    def available(self) -> bool:
        return any(path.exists() for path in self.files)
