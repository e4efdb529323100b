"""The curated lists filterd ships for the categories no public list covers, and their live check.

Each entry carries the date it was last reviewed (`name  # checked YYYY-MM-DD`): a trailing
comment, so the list parser reads these files like any other. A review from knowledge cannot
tell that a site has closed or that its name now belongs to someone else; `filterd lists
check-curated` asks a DNS server about every entry and reports the names that no longer
resolve, which a person then reviews (and re-dates) by hand. Resolving proves only that the
name is in use, not what it serves, so the check never changes a date itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import NamedTuple

from dnslib import QTYPE, RCODE, DNSRecord

CURATED = (
    "self_harm",
    "eating_disorders",
    "extremism",
    "hate",
    "weapons_violence",
    "stranger_chat",
)
DATED = re.compile(r"(?P<name>\S+)\s+# checked (?P<date>\d{4}-\d{2}-\d{2})")


class Entry(NamedTuple):
    category: str
    name: str
    checked: date | None  # None when the line has no valid date


class Outcome(NamedTuple):
    entry: Entry
    answer: str  # "resolves", "NXDOMAIN", "SERVFAIL", ..., or "no answer"


def entries(shipped: Path) -> Iterator[Entry]:
    """Every entry line of the curated files, in file order."""
    for category in CURATED:
        path = shipped / f"{category}.txt"
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            match = DATED.fullmatch(line.strip())
            if match is None:
                yield Entry(category, line.split("#")[0].strip(), None)
                continue
            try:
                checked = date.fromisoformat(match["date"])
            except ValueError:
                checked = None
            yield Entry(category, match["name"], checked)


def ask(name: str, server: tuple[str, int], timeout: float) -> str:
    """How the server answers an A query for the name."""
    query = DNSRecord.question(name, "A")
    try:
        reply = DNSRecord.parse(query.send(server[0], server[1], timeout=timeout))
    except (TimeoutError, OSError):
        return "no answer"
    except Exception:
        return "garbled answer"
    if reply.header.rcode != RCODE.NOERROR:
        return RCODE.get(reply.header.rcode)
    if any(rr.rtype in (QTYPE.A, QTYPE.CNAME) for rr in reply.rr):
        return "resolves"
    return "no address"


def check(shipped: Path, server: tuple[str, int], timeout: float = 3.0) -> list[Outcome]:
    """Ask the server about every curated entry (one at a time: a few hundred names)."""
    return [Outcome(entry, ask(entry.name, server, timeout)) for entry in entries(shipped)]
