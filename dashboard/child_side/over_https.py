"""The child's own page over HTTPS too: a browser that once opened the dashboard on
filterd.home.arpa was told (HSTS) never to use plain HTTP for that name again, so on that device
http://filterd.home.arpa/me becomes https://filterd.home.arpa/me. The HTTPS listener hands that
path, on the dashboard's own names, to the same child-side app the plain-HTTP listener uses
(no login, worked out from the device's address); every other request is the dashboard's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from dashboard.plain_http import CHILD_PAGE, request_host

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


def with_child_page(dashboard: WsgiApp, child_side: WsgiApp, hosts: Iterable[str]) -> WsgiApp:
    """The HTTPS listener's app: /me on the dashboard's names (`hosts`) to `child_side`."""
    own_names = {h.lower() for h in hosts}

    def app(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == CHILD_PAGE and request_host(environ) in own_names:
            return child_side(environ, start_response)
        return dashboard(environ, start_response)

    return app
