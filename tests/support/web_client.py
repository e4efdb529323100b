"""A small HTTP(S) client for the real dashboard: one "device" with its own source address
(any 127.x address reaches a server on 127.0.0.1) and its own cookies."""

from __future__ import annotations

import http.client
import re
import ssl
import urllib.parse
from http.cookies import SimpleCookie
from typing import NamedTuple


class Reply(NamedTuple):
    status: int
    headers: http.client.HTTPMessage
    text: str


class Device:
    """One browser on one address: keeps cookies, says Origin like a browser posting a form."""

    def __init__(self, base_url: str, source: str = "127.0.0.1", ca_file: str | None = None):
        self.base_url = base_url.rstrip("/")
        self.url = urllib.parse.urlsplit(self.base_url)
        self.source = source
        self.cookies: dict[str, str] = {}
        self.context = None
        if self.url.scheme == "https":
            self.context = ssl.create_default_context(cafile=ca_file)
            if ca_file is None:
                self.context.check_hostname = False
                self.context.verify_mode = ssl.CERT_NONE

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        host, port = self.url.hostname or "127.0.0.1", self.url.port
        if self.context is not None:
            return http.client.HTTPSConnection(
                host, port, timeout=timeout, source_address=(self.source, 0), context=self.context
            )
        return http.client.HTTPConnection(
            host, port, timeout=timeout, source_address=(self.source, 0)
        )

    def request(
        self,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 60,
        json_text: str | None = None,
    ) -> Reply:
        sent = {"Origin": self.base_url} if method not in ("GET", "HEAD") else {}
        body: str | None = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if json_text is not None:  # sent as written: tests send JSON no encoder would make
            body = json_text
            sent["Content-Type"] = "application/json"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        sent.update(headers or {})
        connection = self._connection(timeout)
        try:
            connection.request(
                method, path, body=body.encode() if body is not None else None, headers=sent
            )
            response = connection.getresponse()
            text = response.read().decode(errors="replace")
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return Reply(response.status, response.headers, text)

    def get(self, path: str, **kwargs) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, form: dict[str, str], **kwargs) -> Reply:
        return self.request("POST", path, form=form, **kwargs)

    def csrf(self, path: str = "/") -> str:
        match = re.search(r'name="csrf" value="([^"]+)"', self.get(path).text)
        assert match, f"no CSRF token on {path}"
        return match[1]

    def log_in(self, name: str, password: str) -> Reply:
        return self.post("/login", {"name": name, "password": password})
