"""Listen on the LAN interface for ARP, DHCP and neighbour discovery, in a thread of its own.

A packet socket with the kernel filter in filterd.discovery.bpf, so only those packets reach
Python; each is decoded and handed to the event loop. Needs CAP_NET_RAW: opening the socket
raises PermissionError without it, and the daemon then learns from the neighbour table only.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable

from filterd.discovery.bpf import attach_filter
from filterd.discovery.decode import decode
from filterd.discovery.observation import Malformed, Observation

log = logging.getLogger(__name__)

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4  # our own packets: the box is not a device on its own network


class Capture:
    def __init__(
        self,
        interface: str,
        deliver: Callable[[list[Observation]], None],
        malformed: Callable[[str], None],
    ) -> None:
        self.interface = interface
        self.deliver = deliver  # called in the capture thread: must hand over thread-safely
        self.malformed = malformed
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def open(self) -> None:
        """Open and filter the socket now, so a missing capability is known at once."""
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        try:
            sock.bind((self.interface, 0))
            attach_filter(sock)
            sock.setblocking(False)
            with contextlib.suppress(BlockingIOError):  # drop what arrived before the filter
                while True:
                    sock.recv(65535)
            sock.settimeout(0.5)  # so stop() is noticed
        except OSError:
            sock.close()
            raise
        self._sock = sock

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="discovery", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        sock = self._sock
        assert sock is not None
        while not self._stop.is_set():
            try:
                frame, address = sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError as err:
                log.warning("discovery: capture on %s stopped: %s", self.interface, err)
                return
            if address[2] == PACKET_OUTGOING:
                continue
            try:
                observations = decode(frame)
            except Malformed as bad:
                self.malformed(bad.reason)
                continue
            except Exception:  # never let one packet end discovery
                log.exception("discovery: packet could not be decoded")
                self.malformed("decoder_error")
                continue
            if observations:
                self.deliver(observations)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        if self._sock is not None:
            self._sock.close()
