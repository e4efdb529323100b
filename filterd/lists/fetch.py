"""Download one list source, keeping the last good copy when a download is bad.

A failed or suspicious download (HTTP error, timeout, empty body, an HTML error or captive-portal
page served with 200, a list that suddenly lost more than half its domains) must never replace
the list in force: that would quietly unfilter a home. So every new body is validated before it
replaces the stored copy, and every failure comes back with a reason an operator can act on.

Per URL, state_dir holds `<hash>.json` (ETag, Last-Modified, domain count, last outcome) and
`<hash>.list` (the last good body, as downloaded), so updates are conditional requests and a 304
costs nothing. Only the standard library is used.
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import hashlib
import http.client
import json
import os
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, NamedTuple

from filterd.lists.parse import LineCounts, iter_names
from filterd.text.redact import redact_text, redact_url

DEFAULT_MAX_BYTES = 200 * 2**20
DEFAULT_MAX_SECONDS = 1800.0  # a whole download, however slowly the server trickles bytes
USER_AGENT = "filterd/0.1 (blocklist updater)"
_READ_SIZE = 1 << 16
_HTML_SNIFF = 1024  # characters at the start of a body searched for an HTML page
_RETRY_STATUSES = frozenset({408, 429})  # besides 5xx: the server asks to try again later


class FetchResult(NamedTuple):
    status: str  # "updated" | "not_modified" | "failed"
    body: str | None  # the list text; None when failed (stored_body() still has the last good)
    reason: str  # what happened, in words an operator can act on (the caller adds consequences)
    etag: str | None
    last_modified: str | None


class _Failure(Exception):
    """One attempt failed; `retry` says whether another attempt may help."""

    def __init__(self, reason: str, retry: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry


class _Fresh(NamedTuple):
    """A new body sits in the temp file."""

    etag: str | None
    last_modified: str | None
    content_type: str | None


_NOT_MODIFIED = object()


def state_paths(url: str, state_dir: Path) -> tuple[Path, Path]:
    """(meta JSON, body) paths for a URL: named by a hash so any URL is a safe file name."""
    key = hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]
    return state_dir / f"{key}.json", state_dir / f"{key}.list"


def stored_body(url: str, state_dir: Path) -> str | None:
    """The last good body stored for url, or None: what stays in force after a failure."""
    body_path = state_paths(url, state_dir)[1]
    try:
        return body_path.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return None


def freshness(url: str, state_dir: Path) -> dict[str, float | None]:
    """When url last downloaded well (None: never) and when filterd first tried it: what
    Health judges a category's age by, whatever the last attempt did."""
    meta = _read_meta(state_paths(url, state_dir)[0])
    succeeded = meta.get("succeeded_at", meta.get("updated_at"))  # older state: updated_at
    first = meta.get("first_checked_at")
    return {
        "succeeded_at": float(succeeded) if isinstance(succeeded, int | float) else None,
        "first_checked_at": float(first) if isinstance(first, int | float) else None,
    }


def looks_like_html(body: str, content_type: str | None) -> bool:
    """True for a web page: servers and captive portals answer 200 with one instead of a list."""
    if content_type is not None:
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type in ("text/html", "application/xhtml+xml"):
            return True
    head = body[:_HTML_SNIFF].lower()
    return "<html" in head or "<!doctype html" in head


def validate(body: str, previous_count: int | None, content_type: str | None) -> str | None:
    """None when body may replace the stored list, else the reason it may not."""
    return _check(body, previous_count, content_type)[0]


def _check(
    body: str, previous_count: int | None, content_type: str | None
) -> tuple[str | None, int]:
    """(reason or None, number of domains) for a new body."""
    if not body.lstrip("\ufeff \t\r\n"):
        return "the download was empty", 0
    if looks_like_html(body, content_type):
        return (
            "the server sent a web page (HTML) instead of a list: often an error, login or "
            "captive-portal page",
            0,
        )
    counts = LineCounts()
    count = _count(body, counts)
    if count == 0:
        if counts.bad:
            example = counts.examples[0]
            return (
                f"the download contained no usable domains ({counts.bad:,} unreadable "
                f"lines, for example {example!r})",
                0,
            )
        return "the download contained no domains (only comments or blank lines)", 0
    if previous_count and count * 2 < previous_count:
        return (
            f"the list shrank from {previous_count:,} to {count:,} domains (less than half), "
            "which looks like a broken download",
            count,
        )
    return None, count


def fetch(
    url: str,
    state_dir: Path,
    timeout: float = 20,
    retries: int = 3,
    backoff: float = 1.0,
    now: Callable[[], float] = time.time,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> FetchResult:
    """Fetch url (http, https, file:// or a plain path) and replace the stored copy if it is good.

    `retries` is the number of attempts in all (at least one); between attempts the wait doubles
    from `backoff` seconds. Only connection errors, timeouts, 5xx, 408 and 429 are retried: a 404
    or 403 will not fix itself within seconds. `timeout` applies to each network operation,
    `max_seconds` to a whole download. `now` stamps the state file.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    meta_path, body_path = state_paths(url, state_dir)
    meta = _read_meta(meta_path)
    meta["url"] = redact_url(url)  # which file is which source (credentials hidden)
    meta.setdefault("first_checked_at", now())  # how long a source has gone without a copy
    has_body = body_path.is_file()
    stored_etag = meta.get("etag") if has_body else None
    stored_modified = meta.get("last_modified") if has_body else None

    def failed(reason: str) -> FetchResult:
        reason = redact_text(reason)  # an error may quote the address, credentials and all
        failures = meta.get("failures")
        meta.update(
            checked_at=now(),
            last_status="failed",
            last_reason=reason,
            failures=(failures if isinstance(failures, int) else 0) + 1,  # shown to operators
        )
        _write_meta(meta_path, meta)
        return FetchResult("failed", None, reason, stored_etag, stored_modified)

    def not_modified(reason: str) -> FetchResult:
        meta.update(
            checked_at=now(),
            succeeded_at=now(),
            last_status="not_modified",
            last_reason=reason,
            failures=0,
        )
        _write_meta(meta_path, meta)
        body = body_path.read_bytes().decode("utf-8", errors="replace")
        return FetchResult("not_modified", body, reason, stored_etag, stored_modified)

    local = _local_path(url)
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if local is None and scheme not in ("http", "https"):
        return failed(
            f"unsupported address {redact_url(url)!r}: use http://, https://, file:// or a path"
        )

    fd, tmp_name = tempfile.mkstemp(dir=state_dir, prefix=body_path.stem, suffix=".part")
    tmp_path = Path(tmp_name)
    try:
        with os.fdopen(fd, "w+b") as tmp:
            try:
                if local is not None:
                    outcome = _read_local(local, tmp, max_bytes, stored_etag)
                else:
                    outcome = _download_with_retries(
                        url,
                        tmp,
                        stored_etag,
                        stored_modified,
                        timeout,
                        retries,
                        backoff,
                        max_bytes,
                        max_seconds,
                        sleep,
                    )
            except _Failure as failure:
                return failed(failure.reason)
        if outcome is _NOT_MODIFIED:
            if not has_body:  # only possible for a server ignoring our (absent) validators
                return failed("the server said 'not modified' but no earlier copy is stored")
            return not_modified("unchanged since the last download")
        assert isinstance(outcome, _Fresh)
        raw = tmp_path.read_bytes()
        if has_body and body_path.stat().st_size == len(raw) and body_path.read_bytes() == raw:
            stored_etag, stored_modified = outcome.etag, outcome.last_modified
            meta.update(etag=stored_etag, last_modified=stored_modified)
            return not_modified("downloaded again, identical to the stored copy")
        body = raw.decode("utf-8", errors="replace")
        del raw
        previous = meta.get("domains") if has_body else None
        if has_body and not isinstance(previous, int):
            previous = _count(stored_body(url, state_dir) or "")
        reason, count = _check(body, previous, outcome.content_type)
        if reason is not None:
            return failed(reason)
        os.replace(tmp_path, body_path)
        meta.update(
            etag=outcome.etag,
            last_modified=outcome.last_modified,
            domains=count,
            updated_at=now(),
            checked_at=now(),
            succeeded_at=now(),  # the copy in force is as fresh as this (Health's "updated")
            last_status="updated",
            last_reason="",
            failures=0,
        )
        _write_meta(meta_path, meta)
        return FetchResult(
            "updated", body, f"updated: {count:,} domains", outcome.etag, outcome.last_modified
        )
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()


def _count(body: str, counts: LineCounts | None = None) -> int:
    """Entries in a list, streamed: holding millions of names just to count them would cost
    more memory than the whole compiled index."""
    return sum(1 for _ in iter_names(body, counts or LineCounts()))


def _local_path(url: str) -> Path | None:
    """The file for a file:// URL or plain path (operator-licensed lists), else None."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() == "file":
        if parts.netloc not in ("", "localhost"):
            return None
        return Path(urllib.request.url2pathname(parts.path))
    if "://" in url:
        return None
    return Path(url)


def _read_local(path: Path, tmp: IO[bytes], max_bytes: int, stored_etag: str | None) -> object:
    """Copy a local list into tmp; a file unchanged since last time (mtime, size) is not read."""
    try:
        with path.open("rb") as source:
            stat = os.fstat(source.fileno())
            etag = f'"file-{stat.st_mtime_ns}-{stat.st_size}"'
            if etag == stored_etag:
                return _NOT_MODIFIED
            total = 0
            while chunk := source.read(_READ_SIZE):
                total += len(chunk)
                if total > max_bytes:
                    raise _Failure(_too_big(max_bytes), retry=False)
                tmp.write(chunk)
    except FileNotFoundError:
        raise _Failure(f"the local list file {path} does not exist", retry=False) from None
    except PermissionError:
        raise _Failure(f"filterd may not read the local list file {path}", retry=False) from None
    except OSError as error:
        reason = f"cannot read the local list file {path}: {error.strerror or error}"
        raise _Failure(reason, retry=False) from None
    tmp.flush()
    modified = email.utils.formatdate(stat.st_mtime, usegmt=True)
    return _Fresh(etag, modified, None)


def _download_with_retries(
    url: str,
    tmp: IO[bytes],
    etag: str | None,
    last_modified: str | None,
    timeout: float,
    retries: int,
    backoff: float,
    max_bytes: int,
    max_seconds: float,
    sleep: Callable[[float], None],
) -> object:
    """_download, retried with exponential backoff on failures that may be passing."""
    attempts = max(1, retries)
    for attempt in range(1, attempts + 1):
        tmp.seek(0)
        tmp.truncate()
        try:
            return _download(url, tmp, etag, last_modified, timeout, max_bytes, max_seconds)
        except _Failure as failure:
            if not failure.retry or attempt == attempts:
                if attempt > 1:
                    failure.reason += f" (after {attempt} attempts)"
                raise
        sleep(backoff * 2 ** (attempt - 1))
    raise AssertionError("unreachable")


def _credentials_apart(url: str) -> tuple[str, str | None]:
    """The URL without `user:password@`, and those as an HTTP Basic Authorization value.

    urllib does not take credentials out of a URL: it looked up "user:password@host" as a host
    name, sending the password to the system's resolver in clear and never downloading."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    try:
        if parts.port is not None:
            netloc += f":{parts.port}"
    except ValueError:  # not a port: refused by the download with the reason, as before
        return url, None
    user = urllib.parse.unquote(parts.username or "")
    password = urllib.parse.unquote(parts.password or "")
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    bare = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    return bare, f"Basic {token}"


def _download(
    url: str,
    tmp: IO[bytes],
    etag: str | None,
    last_modified: str | None,
    timeout: float,
    max_bytes: int,
    max_seconds: float,
) -> object:
    """One HTTP attempt: _NOT_MODIFIED, or _Fresh with the body written to tmp."""
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    url, authorization = _credentials_apart(url)
    request = urllib.request.Request(url, headers=headers)
    if authorization is not None:
        # Unredirected: a redirect to another server must not carry the list's password there.
        request.add_unredirected_header("Authorization", authorization)
    deadline = time.monotonic() + max_seconds
    try:
        response = urllib.request.build_opener().open(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        error.close()
        if error.code == 304:
            return _NOT_MODIFIED
        raise _Failure(_http_reason(error.code, error.reason), _retryable(error.code)) from None
    except urllib.error.URLError as error:
        raise _Failure(_network_reason(error.reason, timeout), retry=True) from None
    except (OSError, http.client.HTTPException) as error:
        raise _Failure(_network_reason(error, timeout), retry=True) from None

    with response:
        encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
        if encoding == "gzip":
            inflate: Any = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "identity":
            inflate = None
        else:
            raise _Failure(f"the server used an unsupported Content-Encoding {encoding!r}", False)
        total = 0
        try:
            while chunk := response.read(_READ_SIZE):
                if time.monotonic() > deadline:
                    raise _Failure(f"the download took longer than {max_seconds:g} s", True)
                if inflate is None:
                    total += len(chunk)
                    if total > max_bytes:
                        raise _Failure(_too_big(max_bytes), retry=False)
                    tmp.write(chunk)
                    continue
                while chunk:  # bounded output per step: a small gzip bomb cannot fill memory
                    piece = inflate.decompress(chunk, _READ_SIZE)
                    chunk = inflate.unconsumed_tail
                    total += len(piece)
                    if total > max_bytes:
                        raise _Failure(_too_big(max_bytes), retry=False)
                    tmp.write(piece)
            if inflate is not None:
                piece = inflate.flush()
                if total + len(piece) > max_bytes:
                    raise _Failure(_too_big(max_bytes), retry=False)
                tmp.write(piece)
            missing = response.length  # bytes the server announced and never sent
            if missing:
                # http.client ends a short body quietly; kept, the first part of a list would
                # replace the whole (and a cut over half way passes the shrink check).
                raise _Failure(
                    f"the download broke off: {missing:,} bytes of the announced length "
                    "never arrived",
                    True,
                )
        except zlib.error as error:
            raise _Failure(f"the compressed download was corrupt ({error})", True) from None
        except (OSError, http.client.HTTPException) as error:
            raise _Failure(
                _network_reason(error, timeout, "the download broke off"), True
            ) from None
        tmp.flush()
        return _Fresh(
            response.headers.get("ETag"),
            response.headers.get("Last-Modified"),
            response.headers.get("Content-Type"),
        )


def _retryable(code: int) -> bool:
    return code >= 500 or code in _RETRY_STATUSES


def _http_reason(code: int, message: str) -> str:
    hint = {
        404: ": the list is not at this address any more; check the URL",
        410: ": the list has been withdrawn; choose another source",
        401: ": the server wants a login",
        403: ": the server refused access",
        429: ": the server says filterd asks too often",
    }.get(code, ": the list server has a problem" if code >= 500 else "")
    return f"the server answered HTTP {code} ({message}){hint}"


def _network_reason(error: object, timeout: float, prefix: str = "could not connect") -> str:
    if isinstance(error, TimeoutError) or "timed out" in str(error):
        return f"no answer from the server within {timeout:g} s"
    if isinstance(error, OSError) and error.strerror:
        return f"{prefix}: {error.strerror}"
    return f"{prefix}: {error}"


def _too_big(max_bytes: int) -> str:
    limit = f"{max_bytes / 2**20:g} MB" if max_bytes >= 2**20 else f"{max_bytes:,} bytes"
    return f"the download was larger than the {limit} limit"


def _read_meta(path: Path) -> dict[str, Any]:
    """The stored state for a URL; a missing or damaged file means no state."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError, UnicodeDecodeError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _write_meta(path: Path, meta: dict[str, Any]) -> None:
    """Atomic replace, so a crash leaves the old state or the new, never half of one."""
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(meta, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)
