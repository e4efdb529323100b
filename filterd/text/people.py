"""People's text (names, notes) and text from devices: what is accepted, and how it is shown.

A name is written once (in the rules file, by a carer or a script, or by a device in DHCP) and
then shown on every page, in logs and in exports. So it is checked where it enters: printable
Unicode of bounded length. Refused are lone surrogates (they cannot be encoded, so a page that
shows one fails), control characters (they rewrite a terminal or a log line) and the
characters that reverse the direction of text (they make "gpj.exe" read as "exe.jpg").
Joiners (U+200C, U+200D) stay allowed: several scripts and emoji need them.
"""

from __future__ import annotations

import unicodedata

# Embeddings, overrides, isolates and the marks that steer bidirectional text.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
JOINERS = frozenset("\u200c\u200d")
_REFUSED_CATEGORIES = {
    "Cc": "a control character",
    "Cs": "a lone surrogate (broken text)",
    "Co": "a private-use character",
    "Cn": "an unassigned character",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
    "Cf": "an invisible formatting character",
}


def unprintable_reason(char: str) -> str | None:
    """Why one character is refused in a name or note, or None when it is fine."""
    if char in BIDI_CONTROLS:
        return "a character that reverses the direction of text"
    if char in JOINERS:
        return None
    return _REFUSED_CATEGORIES.get(unicodedata.category(char))


def text_problem(value: object, max_length: int, *, multiline: bool = False) -> str | None:
    """Why `value` is not acceptable as a name or note, in plain words; None when it is.

    `multiline` lets a note keep its line breaks (and tabs); names are one line.
    """
    if not isinstance(value, str):
        return "expected text"
    if not value.strip():
        return "is empty"
    if len(value) > max_length:
        return f"longer than {max_length} characters ({len(value)})"
    for position, char in enumerate(value):
        if multiline and char in "\n\t":
            continue
        if char == "\r" and multiline and value[position + 1 : position + 2] == "\n":
            continue
        reason = unprintable_reason(char)
        if reason is not None:
            return f"contains {reason} (U+{ord(char):04X}) at position {position + 1}"
    return None


MARKUP = frozenset("<>")  # a name is words, never markup a page or an email could run


def name_problem(value: object, max_length: int) -> str | None:
    """Why `value` is not acceptable as a person's or a device's name, as a whole plain-words
    message (it reads after the field's label); None when it is fine. On top of
    `text_problem`, a name may not hold < or >: names travel into alerts, digests and reports
    whose writers each have to remember to escape them, so markup is refused where it enters."""
    problem = text_problem(value, max_length)
    if problem is not None:
        return f"a name is printable text: {problem}"
    if any(char in MARKUP for char in str(value)):
        return "a name is plain words: leave out < and >"
    return None


def plain_name(text: str, max_length: int) -> str | None:
    """A name a device gave itself (DHCP, mDNS), made one filterd's parser takes: < and >
    dropped, cut to `max_length`; None when nothing acceptable is left."""
    name = "".join(c for c in text if c not in MARKUP).strip()[:max_length].strip()
    return name if name and name_problem(name, max_length) is None else None


def escaped(text: str) -> str:
    """Text safe to print, log or put on a page: every refused character as \\uXXXX.

    Line breaks and tabs are kept (a note shown in a text box keeps its lines).
    """
    if text.isprintable():
        return text
    return "".join(
        f"\\u{ord(c):04x}" if c not in "\n\t\r" and unprintable_reason(c) else c for c in text
    )


def shown(value: object) -> object:
    """Jinja's finalize: every plain string a page shows goes through `escaped`, so a page
    never fails (or is rearranged) because of a name that came from a file or a device."""
    return escaped(value) if type(value) is str else value
