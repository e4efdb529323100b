"""A list source written as https://user:password@host/list is downloaded with that login.

urllib leaves the credentials in the host name: it asked the system's resolver for
"user:password@host" (the password in a clear DNS query) and never downloaded the list. Real
HTTP servers on loopback; name lookups are watched, so a lookup of anything but a loopback
address fails the test instead of leaving the machine.
"""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from filterd.lists.fetch import fetch

LIST = b"# test list\nbad-one.example\nbad-two.example\n"
LOGIN = "bob:hunter2 secret@x"


class _Server:
    def __init__(self, host: str, redirect_to: str = "") -> None:
        seen: list[dict[str, str]] = []
        self.seen = seen

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append({k.lower(): v for k, v in self.headers.items()})
                if redirect_to:
                    self.send_response(302)
                    self.send_header("Location", redirect_to)
                    self.end_headers()
                    return
                wanted = "Basic " + base64.b64encode(LOGIN.encode()).decode()
                if self.headers.get("Authorization") != wanted:
                    self.send_response(401)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(LIST)))
                self.end_headers()
                self.wfile.write(LIST)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every host name looked up; only loopback literals are let through."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def watched(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        asked.append(str(host))
        if host not in ("127.0.0.1", "127.0.0.2"):
            raise socket.gaierror(socket.EAI_NONAME, "lookup refused by the test")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", watched)
    yield asked


def test_credentials_become_a_login_not_a_host_name(tmp_path: Path, lookups: list[str]) -> None:
    server = _Server("127.0.0.1")
    try:
        url = f"http://bob:hunter2%20secret%40x@127.0.0.1:{server.port}/list.txt"
        result = fetch(url, tmp_path, retries=1, timeout=5)
    finally:
        server.close()
    assert result.status == "updated", result.reason
    assert "bad-two.example" in (result.body or "")
    assert lookups and all("hunter2" not in host for host in lookups)


def test_a_redirect_does_not_carry_the_password_away(tmp_path: Path, lookups: list[str]) -> None:
    elsewhere = _Server("127.0.0.2")
    first = _Server("127.0.0.1", redirect_to=f"http://127.0.0.2:{elsewhere.port}/list.txt")
    try:
        url = f"http://bob:hunter2%20secret%40x@127.0.0.1:{first.port}/list.txt"
        result = fetch(url, tmp_path, retries=1, timeout=5)
    finally:
        first.close()
        elsewhere.close()
    assert first.seen and "authorization" in first.seen[0]
    assert elsewhere.seen and "authorization" not in elsewhere.seen[0]
    assert result.status == "failed"  # the other server wanted the login it was not given
