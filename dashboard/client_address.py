"""The client's address as the rest of the dashboard knows it.

On an installed box the dashboard listens on [::] (one dual-stack socket, so phones reach it
over IPv6 and IPv4 alike); an IPv4 phone then arrives as ::ffff:192.168.1.20. Devices, the
block page's child, throttles and the audit trail all know it by its IPv4 address, so that is
what REMOTE_ADDR says from here on.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable

WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


def unmapped(app: WsgiApp) -> WsgiApp:
    """`app` with an IPv4-mapped REMOTE_ADDR given as the IPv4 address it stands for."""

    def wrapped(environ: dict, start_response: Callable) -> Iterable[bytes]:
        remote = environ.get("REMOTE_ADDR", "")
        if remote[:7].lower() == "::ffff:":
            try:
                mapped = ipaddress.IPv6Address(remote).ipv4_mapped
            except ValueError:
                mapped = None
            if mapped is not None:
                environ["REMOTE_ADDR"] = str(mapped)
        return app(environ, start_response)

    return wrapped
