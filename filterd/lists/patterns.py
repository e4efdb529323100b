"""Name patterns: categories for names built to be found, which no list has caught yet.

Pro-anorexia and suicide-method sites move often and sit on subdomains of big hosts
(`proana-tips.example-blog.com`), so a list of domains is always behind. Their names give them
away: they are chosen so a search finds them ("proana", "thinspo", "how to kill yourself").
The shipped file `blocklists/name_patterns.txt` holds one regular expression per line for a
category, and `except` lines that clear a match (recovery services, prevention charities,
public bodies), so a support service can never be caught by a word it shares with what it
fights.

All of a file's patterns compile into one expression searched once per name: the list store
asks only when its per-name memo misses, so a name costs one search however many patterns
there are, and a name seen again costs nothing.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import NamedTuple

from filterd.lists.categories import BY_ID

log = logging.getLogger(__name__)

FILE_NAME = "name_patterns.txt"
EXCEPT = "except"


class Problem(NamedTuple):
    line: int
    text: str
    reason: str


class NamePatterns:
    """Compiled category patterns and exceptions over dotted, lower-case names (as bytes)."""

    def __init__(self, rules: list[tuple[str, str]], exceptions: list[str]) -> None:
        """rules: (category id, pattern) pairs; exceptions: patterns that clear any match.
        Every pattern must already be valid (parse_patterns checks them one by one)."""
        self.rules = tuple(rules)
        self.exceptions = tuple(exceptions)
        groups: dict[str, list[str]] = {}
        for category, pattern in rules:
            groups.setdefault(category, []).append(f"(?:{pattern})")
        self._bits = [1 << BY_ID[category].bit for category in groups]
        joined = "|".join(f"(?P<g{i}>{'|'.join(parts)})" for i, parts in enumerate(groups.values()))
        self._search = re.compile(joined.encode()).finditer if joined else None
        self._cleared = (
            re.compile("|".join(f"(?:{p})" for p in exceptions).encode()).search
            if exceptions
            else None
        )

    def mask(self, qname: bytes) -> int:
        """Category bits the wire name's patterns give it (0 when none, or an exception)."""
        if self._search is None:
            return 0
        dotted = _dotted(qname)
        found = 0
        for match in self._search(dotted):
            group = match.lastgroup
            if group is not None:
                found |= self._bits[int(group[1:])]
        if found and self._cleared is not None and self._cleared(dotted):
            return 0
        return found

    def matches(self, name: str) -> list[str]:
        """Category ids a presentation name matches (exceptions applied): for tests and tools."""
        from filterd.lists.index import domain_to_wire

        mask = self.mask(domain_to_wire(name))
        return [category for category in BY_ID if mask >> BY_ID[category].bit & 1]


EMPTY = NamePatterns([], [])


def _dotted(qname: bytes) -> bytes:
    """b"www.example.com" from the wire form (label bytes as they are, no escaping)."""
    labels = []
    pos = 0
    length = qname[0]
    while length:
        labels.append(qname[pos + 1 : pos + 1 + length])
        pos += length + 1
        length = qname[pos]
    return b".".join(labels)


def parse_patterns(text: str) -> tuple[NamePatterns, list[Problem]]:
    """Read `<category|except> <regex>` lines; a bad line is reported and left out, the rest
    stay in force (one typo must not switch every pattern off)."""
    rules: list[tuple[str, str]] = []
    exceptions: list[str] = []
    problems: list[Problem] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, _, pattern = line.partition(" ")
        pattern = pattern.strip()
        reason = _refusal(key, pattern)
        if reason:
            problems.append(Problem(number, raw, reason))
        elif key == EXCEPT:
            exceptions.append(pattern)
        else:
            rules.append((key, pattern))
    return NamePatterns(rules, exceptions), problems


def _refusal(key: str, pattern: str) -> str:
    """Why a line cannot be used, or "" when it can."""
    if key != EXCEPT and key not in BY_ID:
        return f"unknown category {key!r} (a category id or {EXCEPT!r})"
    if not pattern:
        return "no pattern after the category"
    if not pattern.isascii():
        return "patterns match names as sent (punycode): use ASCII only"
    try:
        compiled = re.compile(pattern.encode())
    except re.error as err:
        return f"not a regular expression: {err}"
    if compiled.search(b""):
        return "matches an empty name, so it would match every name"
    if compiled.groupindex:
        return "named groups are not allowed (use (?:...))"
    return ""


def load_patterns(shipped: Path) -> NamePatterns | None:
    """The shipped patterns file, with bad lines logged by number; no file: no patterns.
    None when the file is there but cannot be read (the caller keeps what it had)."""
    path = shipped / FILE_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return EMPTY
    except (OSError, UnicodeError) as err:
        log.error("name patterns %s cannot be read: %s", path, err)
        return None
    patterns, problems = parse_patterns(text)
    for problem in problems:
        log.error("%s line %d left out: %s: %r", path, problem.line, problem.reason, problem.text)
    return patterns
