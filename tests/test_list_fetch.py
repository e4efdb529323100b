"""List downloads (conformance item 23): a bad download never replaces the list in force, and the
reason says what went wrong. All traffic goes to a loopback HTTP server started here."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from filterd.lists.fetch import (
    FetchResult,
    fetch,
    freshness,
    state_paths,
    stored_body,
    validate,
)

GOOD = "# test list\n" + "".join(f"site{i}.example\n" for i in range(100))
SHRUNK = "".join(f"site{i}.example\n" for i in range(10))
ETAG = '"v1"'
LAST_MODIFIED = "Wed, 01 Jan 2025 00:00:00 GMT"
FAST = {"timeout": 2.0, "backoff": 0.01}

Route = Callable[["Handler"], None]


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.routes: dict[str, Route] = {}
        self.seen: list[tuple[str, dict[str, str]]] = []
        self.release = threading.Event()  # lets hanging handlers finish at teardown

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def hits(self, path: str) -> int:
        return sum(1 for seen_path, _ in self.seen if seen_path == path)


class Handler(BaseHTTPRequestHandler):
    server: Server

    def do_GET(self) -> None:
        self.server.seen.append((self.path, dict(self.headers)))
        self.server.routes[self.path](self)

    def send(self, status: int, body: bytes | str = b"", **headers: str) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        headers.setdefault("Content_Type", "text/plain; charset=utf-8")
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy from the environment must not carry loopback test traffic anywhere."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture
def server() -> Iterator[Server]:
    httpd = Server()
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd
    httpd.release.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def good_list(handler: Handler) -> None:
    """A list with validators; answers 304 to a matching conditional request."""
    if handler.headers.get("If-None-Match") == ETAG:
        handler.send(304)
    else:
        handler.send(200, GOOD, ETag=ETAG, Last_Modified=LAST_MODIFIED)


def stored_bytes(url: str, state_dir: Path) -> bytes:
    return state_paths(url, state_dir)[1].read_bytes()


def test_good_list_then_304_returns_the_stored_body(server: Server, tmp_path: Path):
    server.routes["/list"] = good_list
    url = server.url("/list")

    first = fetch(url, tmp_path, **FAST)
    assert first == FetchResult("updated", GOOD, "updated: 100 domains", ETAG, LAST_MODIFIED)

    second = fetch(url, tmp_path, **FAST)
    assert second.status == "not_modified"
    assert second.body == GOOD
    assert second.reason == "unchanged since the last download"
    assert (second.etag, second.last_modified) == (ETAG, LAST_MODIFIED)

    first_headers, second_headers = server.seen[0][1], server.seen[1][1]
    assert "If-None-Match" not in first_headers
    assert second_headers["If-None-Match"] == ETAG
    assert second_headers["If-Modified-Since"] == LAST_MODIFIED

    meta = json.loads(state_paths(url, tmp_path)[0].read_text())
    assert meta["url"] == url
    assert meta["domains"] == 100
    assert meta["last_status"] == "not_modified"


def test_unchanged_body_without_validators_is_not_modified(server: Server, tmp_path: Path):
    server.routes["/plain"] = lambda h: h.send(200, GOOD)
    url = server.url("/plain")
    assert fetch(url, tmp_path, **FAST).status == "updated"
    again = fetch(url, tmp_path, **FAST)
    assert again.status == "not_modified"
    assert again.body == GOOD


def test_404_fails_without_retrying(server: Server, tmp_path: Path):
    server.routes["/gone"] = lambda h: h.send(404, "no such file")
    result = fetch(server.url("/gone"), tmp_path, retries=3, **FAST)
    assert result.status == "failed"
    assert result.body is None
    assert result.reason == (
        "the server answered HTTP 404 (Not Found): the list is not at this address any more; "
        "check the URL"
    )
    assert server.hits("/gone") == 1


def test_403_fails_without_retrying(server: Server, tmp_path: Path):
    server.routes["/secret"] = lambda h: h.send(403)
    result = fetch(server.url("/secret"), tmp_path, retries=3, **FAST)
    assert result.reason.startswith("the server answered HTTP 403 (Forbidden)")
    assert server.hits("/secret") == 1


def test_500_then_success_is_retried(server: Server, tmp_path: Path):
    answers = iter([500, 200])

    def flaky(handler: Handler) -> None:
        status = next(answers)
        handler.send(status, GOOD if status == 200 else "oops")

    server.routes["/flaky"] = flaky
    result = fetch(server.url("/flaky"), tmp_path, retries=3, **FAST)
    assert result.status == "updated"
    assert result.body == GOOD
    assert server.hits("/flaky") == 2


def test_persistent_500_retries_with_doubling_backoff(server: Server, tmp_path: Path):
    server.routes["/broken"] = lambda h: h.send(503)
    waits: list[float] = []
    result = fetch(server.url("/broken"), tmp_path, retries=3, backoff=0.5, sleep=waits.append)
    assert result.status == "failed"
    assert result.reason == (
        "the server answered HTTP 503 (Service Unavailable): the list server has a problem "
        "(after 3 attempts)"
    )
    assert waits == [0.5, 1.0]
    assert server.hits("/broken") == 3


def test_hang_longer_than_the_timeout(server: Server, tmp_path: Path):
    def hang(handler: Handler) -> None:
        handler.server.release.wait(10)

    server.routes["/hang"] = hang
    started = time.monotonic()
    result = fetch(server.url("/hang"), tmp_path, timeout=0.5, retries=1)
    assert time.monotonic() - started < 3
    assert result.status == "failed"
    assert result.reason == "no answer from the server within 0.5 s"


def test_connection_refused_is_retried(tmp_path: Path):
    with socket.socket() as probe:  # a loopback port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    waits: list[float] = []
    result = fetch(f"http://127.0.0.1:{port}/x", tmp_path, retries=2, sleep=waits.append)
    assert result.status == "failed"
    assert result.reason == "could not connect: Connection refused (after 2 attempts)"
    assert len(waits) == 1


def test_empty_body(server: Server, tmp_path: Path):
    server.routes["/empty"] = lambda h: h.send(200, "")
    result = fetch(server.url("/empty"), tmp_path, **FAST)
    assert result.status == "failed"
    assert result.reason == "the download was empty"
    assert stored_body(server.url("/empty"), tmp_path) is None


def test_only_comments_is_empty(server: Server, tmp_path: Path):
    server.routes["/comments"] = lambda h: h.send(200, "# nothing here\n! nor here\n\n")
    result = fetch(server.url("/comments"), tmp_path, **FAST)
    assert result.status == "failed"
    assert "no domains (only comments or blank lines)" in result.reason


def test_html_page_with_200(server: Server, tmp_path: Path):
    page = "<!DOCTYPE html>\n<html><body>Please log in to the hotel Wi-Fi</body></html>\n"
    server.routes["/portal"] = lambda h: h.send(200, page, Content_Type="text/html")
    result = fetch(server.url("/portal"), tmp_path, **FAST)
    assert result.status == "failed"
    assert result.reason.startswith("the server sent a web page (HTML) instead of a list")


def test_good_list_then_failure_keeps_the_previous_copy(server: Server, tmp_path: Path):
    responses = iter([(200, GOOD), (404, "")])

    def then_gone(handler: Handler) -> None:
        status, body = next(responses)
        handler.send(status, body)

    server.routes["/list"] = then_gone
    url = server.url("/list")
    assert fetch(url, tmp_path, **FAST).status == "updated"
    result = fetch(url, tmp_path, **FAST)
    assert result.status == "failed"
    assert result.reason.startswith("the server answered HTTP 404")
    assert stored_body(url, tmp_path) == GOOD


def test_list_that_shrank_by_more_than_half(server: Server, tmp_path: Path):
    bodies = iter([GOOD, SHRUNK])
    server.routes["/list"] = lambda h: h.send(200, next(bodies))
    url = server.url("/list")
    assert fetch(url, tmp_path, **FAST).status == "updated"
    before = stored_bytes(url, tmp_path)

    result = fetch(url, tmp_path, **FAST)
    assert result.status == "failed"
    assert result.body is None
    assert result.reason == (
        "the list shrank from 100 to 10 domains (less than half), which looks like a broken "
        "download"
    )
    assert stored_bytes(url, tmp_path) == before
    meta = json.loads(state_paths(url, tmp_path)[0].read_text())
    assert meta["domains"] == 100
    assert meta["last_status"] == "failed"
    assert meta["failures"] == 1
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".part"] == []


def cut_short(handler: Handler) -> None:
    """Announces the whole list, sends its first 70 % and hangs up (a dropped connection)."""
    data = GOOD.encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "text/plain")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data[: len(data) * 7 // 10])
    handler.wfile.flush()
    handler.close_connection = True


def test_a_download_cut_short_keeps_the_previous_copy(server: Server, tmp_path: Path):
    """Most of a list arrived (more than half, so the shrink check alone lets it through): the
    stored copy stays whole and the success time stays that of the last good download."""
    server.routes["/list"] = lambda h: h.send(200, GOOD)
    url = server.url("/list")
    assert fetch(url, tmp_path, now=lambda: 1000.0, **FAST).status == "updated"

    server.routes["/list"] = cut_short
    result = fetch(url, tmp_path, retries=2, now=lambda: 2000.0, **FAST)
    assert result.status == "failed"
    assert result.reason.startswith("the download broke off: ")
    assert result.reason.endswith("never arrived (after 2 attempts)")
    assert stored_body(url, tmp_path) == GOOD
    assert freshness(url, tmp_path) == {"succeeded_at": 1000.0, "first_checked_at": 1000.0}


def test_gzip_download(server: Server, tmp_path: Path):
    def gzipped(handler: Handler) -> None:
        assert "gzip" in handler.headers.get("Accept-Encoding", "")
        handler.send(200, gzip.compress(GOOD.encode()), Content_Encoding="gzip")

    server.routes["/gz"] = gzipped
    result = fetch(server.url("/gz"), tmp_path, **FAST)
    assert result.status == "updated"
    assert result.body == GOOD


def test_size_cap(server: Server, tmp_path: Path):
    server.routes["/big"] = lambda h: h.send(200, GOOD * 10)
    result = fetch(server.url("/big"), tmp_path, max_bytes=1000, **FAST)
    assert result.status == "failed"
    assert result.reason.startswith("the download was larger than the")


def test_size_cap_applies_to_the_unpacked_size(server: Server, tmp_path: Path):
    packed = gzip.compress(b"a.example\n" * 200_000)  # 2 MB unpacked, a few kB on the wire
    server.routes["/bomb"] = lambda h: h.send(200, packed, Content_Encoding="gzip")
    result = fetch(server.url("/bomb"), tmp_path, max_bytes=100_000, **FAST)
    assert result.status == "failed"
    assert result.reason == "the download was larger than the 100,000 bytes limit"


def test_invalid_utf8_is_replaced_not_fatal(server: Server, tmp_path: Path):
    server.routes["/latin1"] = lambda h: h.send(200, b"a.com\nb\xfccher.de\nc.com\n")
    result = fetch(server.url("/latin1"), tmp_path, **FAST)
    assert result.status == "updated"
    assert result.reason == "updated: 2 domains"


def test_file_url_and_plain_path(tmp_path: Path):
    source = tmp_path / "licensed.txt"
    source.write_text(GOOD)
    state = tmp_path / "state"

    first = fetch(source.as_uri(), state)
    assert first.status == "updated"
    assert first.body == GOOD
    again = fetch(source.as_uri(), state)
    assert again.status == "not_modified"
    assert again.body == GOOD

    by_path = fetch(str(source), state)
    assert by_path.status == "updated"
    assert by_path.body == GOOD


def test_missing_local_file(tmp_path: Path):
    missing = tmp_path / "nope.txt"
    result = fetch(missing.as_uri(), tmp_path / "state")
    assert result.status == "failed"
    assert result.reason == f"the local list file {missing} does not exist"


def test_unsupported_scheme(tmp_path: Path):
    result = fetch("ftp://127.0.0.1/list.txt", tmp_path)
    assert result.status == "failed"
    assert result.reason.startswith("unsupported address 'ftp://127.0.0.1/list.txt'")


def test_validate():
    assert validate(GOOD, None, "text/plain") is None
    assert validate(GOOD, 200, None) is None  # exactly half is still accepted
    assert validate(GOOD, 201, None) == (
        "the list shrank from 201 to 100 domains (less than half), which looks like a broken "
        "download"
    )
    assert validate("", None, None) == "the download was empty"
    assert validate("\ufeff\r\n\r\n", None, None) == "the download was empty"
    assert "only comments" in (validate("# c\n! c\n", None, None) or "")
    assert "web page (HTML)" in (validate(GOOD, None, "text/html; charset=utf-8") or "")
    assert "web page (HTML)" in (validate("<html><body>x.com</body></html>", None, None) or "")
    assert "web page (HTML)" in (validate("\n<!doctype html>\n<p>hi", None, "text/plain") or "")
    assert "no usable domains" in (validate("not a list at all\n", None, None) or "")
