"""Parse downloaded blocklists (hosts files, plain domain lists, the DNS subset of adblock syntax).

Lists come from many publishers in slightly different formats, and some lines are always broken.
A line in URL form (`http://host/path`, `host/path`), as illegal-content lists publish them,
gives its host: a DNS filter blocks the whole host, never one page. Every accepted name is
normalised the same way (lower case, punycode, no trailing dot) so one
entry matches whatever spelling a client asks for, and a bad line is counted and skipped rather
than failing the whole list: one typo must never leave a home unfiltered.

Lists reach millions of lines and are re-parsed on every update, so the loop dispatches on cheap
str methods and checks each name with one compiled fullmatch, which measured twice as fast as
the equivalent chain of a dozen str calls (about 1.5 s per million plain lines on the dev box).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from encodings.idna import ToASCII
from typing import NamedTuple

MAX_NAME = 253
MAX_EXAMPLES = 5
_CHUNK = 1 << 20  # characters of text split into lines at a time (bounds memory on huge lists)

# Names that hosts files carry for the machine itself: never something to block, never an error.
SKIPPED_NAMES = frozenset(
    {
        "localhost",
        "localhost.localdomain",
        "local",
        "broadcasthost",
        "ip6-localhost",
        "ip6-loopback",
        "0.0.0.0",
        # The standard IPv6 preamble of hosts files (e.g. `ff02::1 ip6-allnodes`).
        "ip6-localnet",
        "ip6-mcastprefix",
        "ip6-allnodes",
        "ip6-allrouters",
        "ip6-allhosts",
    }
)

# Adblock `$` options that do not narrow or change what a DNS filter should do with the name:
# `important` is only a priority; `all`/`document`/`doc` mean the whole site; `match-case` only
# matters for URL paths. Anything else (`third-party`, `script`, `client=`, `dnsrewrite=`,
# `badfilter`, ...) would make "block the whole domain" wrong, so such lines are counted as bad.
_IGNORABLE_OPTIONS = frozenset({"important", "all", "document", "doc", "match-case"})

_COMMON_HOSTS_ADDRESSES = frozenset({"0.0.0.0", "127.0.0.1", "::", "::1", "0:0:0:0:0:0:0:0"})
_UNICODE_DOTS = ("\u3002", "\uff0e", "\uff61")  # dots that IDNA treats as label separators
_MAX_EXAMPLE_CHARS = 200
_SPECIAL_FIRST = "#![|@"  # first characters of comments, adblock rules and headers
_MAX_TOKEN = MAX_NAME + 3  # `*.` prefix and a trailing dot around the longest valid name

# Optional `*.`, then at least two labels of 1-63 of [a-z0-9_-], the last not all digits (which
# would be a bare IPv4 address: no top-level domain is numeric), then an optional trailing dot.
_HOSTNAME = re.compile(
    r"(?:\*\.)?((?:[a-z0-9_-]{1,63}\.)+(?![0-9]+\.?\Z)[a-z0-9_-]{1,63})\.?"
).fullmatch


class ParsedList(NamedTuple):
    blocked: list[str]
    allowed: list[str]
    bad_lines: int
    bad_examples: list[str]  # up to MAX_EXAMPLES offending lines, for messages to the operator


def normalise_domain(text: str) -> str | None:
    """One name, normalised as lists are (lower case, punycode, no trailing dot, `*.` dropped).

    Returns None when the name is invalid or one of SKIPPED_NAMES, so config validation refuses
    exactly what list parsing would refuse.
    """
    name = _normalise(text.strip())
    if name is None or name in SKIPPED_NAMES:
        return None
    return name


def _normalise(token: str) -> str | None:
    """Normalise one name token (already stripped); None when it is not a valid hostname.

    SKIPPED_NAMES come back as names (the caller skips them), so that `0.0.0.0` as a name is not
    mistaken for a bare address. The ASCII case is one compiled fullmatch: measured twice as fast
    as the equivalent chain of a dozen str calls, and this runs once per line of every list.
    """
    if not token.isascii():
        name = _to_punycode(token[2:] if token.startswith("*.") else token)
        return None if name is None else _normalise(name)
    name = token.lower()
    if len(name) <= _MAX_TOKEN:
        match = _HOSTNAME(name)
        if match is not None:
            name = match[1]
            return name if len(name) <= MAX_NAME else None
    if name.endswith("."):
        name = name[:-1]
    return name if name in SKIPPED_NAMES else None


def _to_punycode(name: str) -> str | None:
    """IDN to ASCII label by label (IDNA 2003, as Python's idna codec), lower-cased."""
    for dot in _UNICODE_DOTS:
        name = name.replace(dot, ".")
    if name.endswith("."):
        name = name[:-1]
    labels = name.split(".")
    try:
        return ".".join(ToASCII(label).decode("ascii") for label in labels).lower()
    except UnicodeError:
        return None  # empty or over-long label, or a character IDNA refuses


def _lines(text: str) -> Iterator[str]:
    """Lines of text, split a chunk at a time so a 100 MB list never becomes one 5M-item list."""
    size = len(text)
    start = 0
    while start < size:
        end = text.find("\n", start + _CHUNK)
        end = size if end < 0 else end + 1
        yield from text[start:end].splitlines()
        start = end


def _is_address(token: str) -> bool:
    """True for the address at the start of a hosts line."""
    if token in _COMMON_HOSTS_ADDRESSES:
        return True
    try:
        ipaddress.ip_address(token)
    except ValueError:
        return False
    return True


def _adblock_domain(rule: str) -> str | None:
    """The domain of `a.com^` / `a.com^$important` (after `||`); None for any other syntax."""
    caret = rule.find("^")
    if caret <= 0:
        return None
    rest = rule[caret + 1 :]
    if rest.startswith("|"):
        rest = rest[1:]  # `||a.com^|` anchors the end too: the same for DNS
    if rest:
        if rest[0] != "$":
            return None
        options = rest[1:].split(",")
        for option in options:
            if option not in _IGNORABLE_OPTIONS:
                return None
    return rule[:caret]


def parse_list(text: str) -> ParsedList:
    """Parse one list's text into normalised blocked and allowed (exception) names.

    Order is preserved and duplicates dropped, so the result is stable across runs. A hosts line
    with some bad names keeps its good ones and counts once as a bad line.
    """
    blocked: dict[str, None] = {}
    allowed: dict[str, None] = {}
    counts = LineCounts()
    for is_exception, name in iter_names(text, counts):
        (allowed if is_exception else blocked)[name] = None
    return ParsedList(list(blocked), list(allowed), counts.bad, counts.examples)


class LineCounts:
    """Bad lines seen by iter_names, with the first few kept for messages to the operator."""

    def __init__(self) -> None:
        self.bad = 0
        self.examples: list[str] = []

    def add(self, raw: str) -> None:
        self.bad += 1
        if self.bad <= MAX_EXAMPLES:
            self.examples.append(raw[:_MAX_EXAMPLE_CHARS])


def iter_names(text: str, counts: LineCounts) -> Iterator[tuple[bool, str]]:
    """Yield (is_exception, name) line by line, without keeping the names: compiling a list of
    millions streams them into the index instead of holding them all (duplicates merge there).
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    normalise = _normalise
    skipped = SKIPPED_NAMES

    for raw in _lines(text):
        line = raw.strip()
        if not line:
            continue
        first = line[0]
        if first in _SPECIAL_FIRST:
            if first == "#" or first == "!":
                continue
            if first == "[":
                if line.endswith("]"):
                    continue  # adblock header such as `[Adblock Plus 2.0]`
                name = None
            else:
                line = _cut_comment(line)
                if line.startswith("||"):
                    token = _adblock_domain(line[2:])
                    name = normalise(token) if token else None
                elif line.startswith("@@||"):
                    token = _adblock_domain(line[4:])
                    name = normalise(token) if token else None
                    if name is not None:
                        if name not in skipped:
                            yield True, name
                        continue
                else:
                    name = None
        elif " " in line or "\t" in line or "#" in line:
            line = _cut_comment(line)
            parts = line.split()
            if len(parts) == 1:
                name = normalise(line)
                if name is None and ("/" in line or ":" in line):
                    name = _url_host(line)
            elif "/" in parts[0] and not _is_address(parts[0]):
                name = _url_host(line)  # a URL whose path has spaces: the host is before them
            elif _is_address(parts[0]):
                line_bad = False
                for part in parts[1:]:
                    name = normalise(part)
                    if name is None:
                        line_bad = True
                    elif name not in skipped:
                        yield False, name
                if line_bad:
                    counts.add(raw)
                continue
            else:
                name = None
        else:
            name = normalise(line)
            if name is None and ("/" in line or ":" in line):
                name = _url_host(line)

        if name is None:
            counts.add(raw)
        elif name not in skipped:
            yield False, name


def _url_host(token: str) -> str | None:
    """The host of a line in URL form (`http://host/path`, `host/path`, `host:port`, a path
    with spaces), as illegal-content lists are published; None when it is not one (an IP
    address is not a name a DNS filter can block: counted as a bad line). A DNS filter can
    only block the whole host."""
    scheme_end = token.find("://")
    if scheme_end >= 0:
        if token[:scheme_end].lower() not in ("http", "https"):
            return None
        token = token[scheme_end + 3 :]
    cut = len(token)
    for separator in "/?#":
        at = token.find(separator)
        if 0 <= at < cut:
            cut = at
    host = token[:cut].rpartition("@")[2]  # drop any user:password@
    host, _, port = host.partition(":")
    if port and not port.isdigit():
        return None
    if scheme_end < 0 and cut == len(token) and not port:
        return None  # neither a scheme, a path nor a port: not a URL
    return _normalise(host) if host else None


def _cut_comment(line: str) -> str:
    """Drop a trailing ` # comment` (a `#` after whitespace); other `#`s make the line bad."""
    hash_at = line.find("#")
    if hash_at > 0 and line[hash_at - 1].isspace():
        return line[:hash_at].rstrip()
    return line
