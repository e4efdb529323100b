"""Credentials out of everything shown or logged: list-source URLs carry passwords and API keys.

A list source may be `https://user:password@host/list.txt` or `...?api_key=...`; the status
file, the Health page, `filterd lists update` output, check-config and the logs name sources so
an operator can tell them apart, and every role can read the Health page. So a URL is shown
with its password, secret-looking query values and key-like path parts replaced by `***`.
The full URL stays only in filterd.yaml (and hashed, as the download's file name).
"""

from __future__ import annotations

import re
import urllib.parse

HIDDEN = "***"
# Query parameters whose values are secrets, by name (apikey, api_key, token, sig, auth...).
_SECRET_NAME = re.compile(r"key|token|secret|pass|auth|sig|credential|session", re.IGNORECASE)
# A path part that looks like a key: long, and mixing letters and digits (not a file name).
_KEY_LIKE = re.compile(r"(?=[A-Za-z0-9_-]*[0-9])(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{24,}")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def redact_url(url: str) -> str:
    """The URL with its credentials hidden; text that is not a URL comes back unchanged."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return _URL.sub(HIDDEN, url) if "@" in url else url
    if not parts.scheme or not parts.netloc:
        return url
    netloc = parts.netloc
    if "@" in netloc:  # user name and password both hidden: either may be the secret
        shown_host = f"[{host}]" if host and ":" in host else (host or "")
        netloc = f"{HIDDEN}@{shown_host}" + (f":{port}" if port else "")
    path = "/".join(HIDDEN if _KEY_LIKE.fullmatch(p) else p for p in parts.path.split("/"))
    query = "&".join(_hide_value(pair) for pair in parts.query.split("&")) if parts.query else ""
    return urllib.parse.urlunsplit((parts.scheme, netloc, path, query, ""))


def _hide_value(pair: str) -> str:
    name, sep, value = pair.partition("=")
    if sep and (_SECRET_NAME.search(name) or _KEY_LIKE.fullmatch(value)):
        return f"{name}={HIDDEN}"
    return pair


def redact_text(text: str) -> str:
    """Free text (an error message, a process's output) with every URL in it redacted."""
    return _URL.sub(lambda match: redact_url(match[0]), text)
