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
there are, and a name seen again costs nothing. That search is a prefilter: the same
patterns with their lookaround assertions taken out. An assertion only ever narrows a match,
so the prefilter matches every name the patterns match. Lines that then start with a letter
or digit and have no top-level `|` are joined as bare alternatives, which lets Python's
engine skip along a name by the branches' first characters; the few others are searched
apart. Measured on 20,000 unmatched names (bench/name_patterns.py), that is about a sixth of
the cost of searching the patterns as written. Only a name the prefilter matches, a rare
one, is searched with the real patterns.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
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
        self._maybe = _prefilter([without_assertions(pattern) for _, pattern in rules])
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
        if not self._maybe(dotted):
            return 0
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


_ASSERTIONS = ("(?=", "(?!", "(?<=", "(?<!")
_PLAIN_START = re.compile(r"[a-z0-9]")


def _prefilter(loose: list[str]) -> Callable[[bytes], bool]:
    """One test for "may match": bare alternatives for lines that start with a plain
    character and have no top-level `|`, one grouped search for the rest."""
    plain = [p for p in loose if _PLAIN_START.match(p) and not _has_top_level_bar(p)]
    other = [p for p in loose if p not in plain]
    fast = re.compile("|".join(plain).encode()).search if plain else None
    slow = re.compile("|".join(f"(?:{p})" for p in other).encode()).search if other else None
    if fast and slow:
        return lambda name: fast(name) is not None or slow(name) is not None
    if fast or slow:
        search = fast or slow
        return lambda name: search(name) is not None
    return lambda name: False


def _has_top_level_bar(pattern: str) -> bool:
    depth = 0
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return True
        i = _token_end(pattern, i)
    return False


def without_assertions(pattern: str) -> str:
    """The pattern with every lookahead and lookbehind group removed: it matches a superset of
    what the pattern matches. Escapes and character classes are skipped over, so a `(` inside
    `[...]` or after `\\` is not mistaken for a group."""
    out: list[str] = []
    i = 0
    size = len(pattern)
    while i < size:
        if pattern.startswith(_ASSERTIONS, i):
            i = _group_end(pattern, i)
            continue
        end = _token_end(pattern, i)
        out.append(pattern[i:end])
        i = end
    return "".join(out)


def _token_end(pattern: str, i: int) -> int:
    """End of the token at i: an escape pair, a whole character class, or one character."""
    if pattern[i] == "\\":
        return i + 2
    if pattern[i] == "[":
        j = i + 1
        if j < len(pattern) and pattern[j] == "^":
            j += 1
        if j < len(pattern) and pattern[j] == "]":
            j += 1  # a `]` first in a class is a literal
        while j < len(pattern) and pattern[j] != "]":
            j += 2 if pattern[j] == "\\" else 1
        return j + 1
    return i + 1


def _group_end(pattern: str, i: int) -> int:
    """Index just past the `)` closing the group that opens at i."""
    depth = 0
    while i < len(pattern):
        if pattern[i] == "(":
            depth += 1
        elif pattern[i] == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i = _token_end(pattern, i)
    return i


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
    try:
        re.compile(without_assertions(pattern).encode())
    except re.error:
        return "its assertions (lookahead or lookbehind) are not balanced groups"
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


EMPTY = NamePatterns([], [])  # no patterns file: nothing matches
