"""At most a few connections open at once from one device, so one device cannot hold them all.

cheroot gives every connection a worker thread (eight for the dashboard) until its request is
read, or for up to ten seconds when nothing comes: eight silent connections from a child's
device kept every carer waiting. Counting open connections per source (an IPv4 address, or an
IPv6 /64, since a phone changes its IPv6 address at will) and closing any beyond PER_SOURCE at
once leaves workers free for everyone else. A browser opens at most six to one site.
"""

from __future__ import annotations

import ipaddress
import threading
from collections import Counter
from typing import Any

from cheroot import wsgi

PER_SOURCE = 6


def source_of(address: Any) -> str:
    """What counts as one device: the IPv4 address, or the IPv6 address's /64."""
    try:
        ip = ipaddress.ip_address(str(address))
    except ValueError:
        return str(address)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class SourceLimitedServer(wsgi.Server):
    """cheroot's WSGI server, refusing a source's connections beyond PER_SOURCE open at once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._open: Counter[str] = Counter()
        self._open_lock = threading.Lock()

    def process_conn(self, conn: Any) -> None:
        # Called for a new connection and again for each later request on a kept-alive one.
        if getattr(conn, "source", None) is None:
            source = source_of(conn.remote_addr)
            with self._open_lock:
                full = self._open[source] >= PER_SOURCE
                if not full:
                    self._open[source] += 1
            if full:
                conn.close()  # not counted, so nothing to release
                return
            conn.source = source
        super().process_conn(conn)

    def release(self, source: str) -> None:
        """A counted connection has closed."""
        with self._open_lock:
            self._open[source] -= 1
            if self._open[source] <= 0:
                del self._open[source]
