"""A loopback UDP upstream in a thread of the test process, answering through a handler."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

from dnslib import DNSRecord


class HandlerUpstream:
    """A loopback UDP upstream in a thread whose answers come from `handler(query)`.

    For answers the scripted upstream cannot give (one name answering, then failing;
    hand-made record sets) and for seeing how queries reach an upstream. `handler` returns
    the reply, or None to stay silent. Every query is recorded before it is handled: its
    name in `asked`, its (query ID, source port) in `seen`.
    """

    def __init__(self, handler: Callable[[DNSRecord], DNSRecord | None]) -> None:
        self.handler = handler
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.addr = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.asked: list[str] = []
        self.seen: list[tuple[int, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = DNSRecord.parse(data)
            self.asked.append(str(query.q.qname).rstrip(".").lower())
            self.seen.append((query.header.id, peer[1]))
            reply = self.handler(query)
            if reply is not None:
                self.sock.sendto(reply.pack(), peer)

    def __enter__(self) -> HandlerUpstream:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()
