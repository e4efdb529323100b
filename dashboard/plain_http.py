"""The plain-HTTP listener (port 80 on an appliance): it never serves the dashboard.

Anything asked of the dashboard's own names and addresses is sent to HTTPS (a carer who types
filterd.home.arpa lands on the encrypted dashboard). The box's CA certificate is offered here
too, so a phone can fetch it to trust (the person checks its fingerprint against the one the
box shows), and `/me` on those names is a child's own page (`other_hosts` serves it). Every
other host name is what a blocked answer pointed at this box: the block page is served there
(`other_hosts`: dashboard/child_side); without it they get a short plain page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import quote, urlsplit

from dashboard.settings import DashboardSettings

CA_PATH = "/filterd-ca.crt"
CHILD_PAGE = "/me"  # http://filterd.home.arpa/me: what applies to this device, no login
WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


def request_host(environ: dict) -> str:
    """The Host header's name, lower case, without the port or a trailing dot (the fully
    qualified `filterd.home.arpa.` is the same name)."""
    return (urlsplit("//" + environ.get("HTTP_HOST", "")).hostname or "").lower().rstrip(".")


def make_plain_app(
    settings: DashboardSettings, ca_file: Path | None, other_hosts: WsgiApp | None = None
) -> WsgiApp:
    """The WSGI app of the plain-HTTP listener; `other_hosts` serves names that are not the
    dashboard's (the block page)."""
    https_port = settings.listen.rpartition(":")[2]
    dashboard_hosts = {h.lower().rstrip(".") for h in settings.allowed_hosts}

    def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        host = request_host(environ)
        path = environ.get("PATH_INFO", "/")
        if path == CA_PATH and ca_file is not None and host in dashboard_hosts:
            body = ca_file.read_bytes()
            start_response(
                "200 OK",
                [
                    ("Content-Type", "application/x-x509-ca-cert"),
                    ("Content-Disposition", 'attachment; filename="filterd-ca.crt"'),
                    ("Content-Length", str(len(body))),
                ],
            )
            return [body]
        if host in dashboard_hosts and path == CHILD_PAGE and other_hosts is not None:
            return other_hosts(environ, start_response)  # a child's own page: plain HTTP
        if host in dashboard_hosts:
            authority = f"[{host}]" if ":" in host else host
            port = "" if https_port == "443" else f":{https_port}"
            query = environ.get("QUERY_STRING", "")
            target = f"https://{authority}{port}{quote(path)}" + (f"?{query}" if query else "")
            start_response(
                "308 Permanent Redirect",
                [("Location", target), ("Content-Length", "0"), ("Cache-Control", "no-store")],
            )
            return [b""]
        if other_hosts is not None:
            return other_hosts(environ, start_response)
        body = b"This address is not one the dashboard answers to.\n"
        start_response(
            "404 Not Found",
            [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
        )
        return [body]

    return app
