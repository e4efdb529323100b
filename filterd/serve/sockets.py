"""The sockets: asyncio UDP and TCP servers that hand packets to the chain and send its answers.

What happens to a packet is filterd.chain.build_chain's business (admission first: see
filterd.serve.admission); the servers only receive, send, and bound TCP connections. A
synchronous answer (a cache hit) is sent inside datagram_received without creating a task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
from collections import Counter

from filterd.dns.query import Transport
from filterd.serve.acl import ClientAcl
from filterd.serve.admission import PacketStage
from filterd.serve.metrics import ServeCounters
from filterd.serve.settings import TcpLimits

log = logging.getLogger(__name__)

# Read once: an Enum member read from its class costs a descriptor call (~65 ns, Python 3.11)
# on every packet; a module global is a dict lookup.
_UDP = Transport.UDP
_TCP = Transport.TCP

UDP_RECEIVE_BUFFER = 4 * 1024 * 1024  # absorbs bursts while the loop is busy
MAX_TCP_PIPELINE = 32  # outstanding answers per TCP connection
MAX_TCP_CONNECTIONS = 512
TCP_WRITE_BUFFER = 64 * 1024  # unread answers held per connection before reading pauses


class UdpServer(asyncio.DatagramProtocol):
    """One UDP socket. Synchronous answers are sent at once; the rest when they complete."""

    def __init__(self, handle: PacketStage) -> None:
        self.handle = handle
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        try:
            result = self.handle(data, addr[0], _UDP)
        except Exception:  # one bad packet must never stop the server
            log.exception("unexpected error handling a UDP packet")
            return
        if result is None:
            return
        if type(result) is bytes:
            self.transport.sendto(result, addr)
            return
        task = asyncio.ensure_future(result)
        task.add_done_callback(lambda done: self._send_later(done, addr))

    def _send_later(self, done: asyncio.Future, addr: tuple) -> None:
        if done.cancelled():
            return
        error = done.exception()
        if error is not None:
            log.error("unexpected error answering a UDP query", exc_info=error)
            return
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(done.result(), addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("UDP error: %s", exc)


class TcpServer:
    """DNS over TCP (RFC 7766): pipelining, idle timeout, per-client connection cap."""

    def __init__(
        self, handle: PacketStage, acl: ClientAcl, limits: TcpLimits, metrics: ServeCounters
    ) -> None:
        self.handle = handle
        self.acl = acl
        self.limits = limits
        self.metrics = metrics
        self.connections: Counter[str] = Counter()
        self.writers: set[asyncio.StreamWriter] = set()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host = writer.get_extra_info("peername")[0]
        if not self.acl.allows(host):  # outsiders never hold a connection slot
            self.metrics.dropped["refused_client"] += 1
            writer.close()
            return
        if (
            self.connections[host] >= self.limits.max_connections_per_client
            or sum(self.connections.values()) >= MAX_TCP_CONNECTIONS
        ):
            self.metrics.tcp_rejected += 1
            writer.close()
            return
        self.connections[host] += 1
        self.writers.add(writer)
        pending: set[asyncio.Task] = set()
        try:
            await self._read_loop(reader, writer, host, pending)
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            if pending:
                await asyncio.wait(pending, timeout=5)
            self.connections[host] -= 1
            if not self.connections[host]:
                del self.connections[host]
            self.writers.discard(writer)
            writer.close()

    def close_all(self) -> None:
        """Close every open connection (shutdown: the listening sockets are already closed)."""
        for writer in list(self.writers):
            writer.close()

    async def _read_loop(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        host: str,
        pending: set[asyncio.Task],
    ) -> None:
        """Read length-prefixed messages; each must arrive whole within the idle timeout."""
        while True:
            async with asyncio.timeout(self.limits.idle_timeout):
                if writer.transport.get_write_buffer_size() > TCP_WRITE_BUFFER:
                    await writer.drain()  # a client that does not read stops being read
                length = struct.unpack("!H", await reader.readexactly(2))[0]
                message = await reader.readexactly(length)
            result = self.handle(message, host, _TCP)
            if result is None:
                continue
            if type(result) is bytes:
                _write_message(writer, result)
                continue
            task = asyncio.ensure_future(result)
            pending.add(task)
            task.add_done_callback(lambda done: self._write_later(done, writer, pending))
            if len(pending) >= MAX_TCP_PIPELINE:
                await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)

    @staticmethod
    def _write_later(
        done: asyncio.Task, writer: asyncio.StreamWriter, pending: set[asyncio.Task]
    ) -> None:
        pending.discard(done)
        if done.cancelled() or done.exception() is not None or writer.is_closing():
            return
        _write_message(writer, done.result())


def _write_message(writer: asyncio.StreamWriter, message: bytes) -> None:
    writer.write(struct.pack("!H", len(message)) + message)


def bind_udp(host: str, port: int) -> socket.socket:
    """A UDP socket on host:port; IPv6 sockets are v6-only so v4 and v6 can share a port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_RECEIVE_BUFFER)
    sock.bind((host, port))
    sock.setblocking(False)
    return sock


def bind_tcp(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock
