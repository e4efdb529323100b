"""The sockets: asyncio UDP and TCP servers that turn packets into Queries and send Replies.

The UDP hot path stays synchronous when it can: rate limit, access check, parse, and a cache
hit are answered inside datagram_received without creating a task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
from collections import Counter, deque
from collections.abc import Awaitable, Coroutine
from typing import Any

from filterd.clock import Clock
from filterd.dns.answers import client_opt
from filterd.dns.query import Query, Reply, Stage, Transport
from filterd.dns.wire import (
    CD,
    PLAIN_UDP_SIZE,
    REFUSED,
    Drop,
    Reject,
    answer_limit,
    error_reply,
    new_tuple,
    parse_query,
    truncated,
)
from filterd.metrics import Metrics
from filterd.serve.acl import ClientAcl
from filterd.serve.ratelimit import RateLimiter
from filterd.serve.settings import TcpLimits

log = logging.getLogger(__name__)

UDP_RECEIVE_BUFFER = 4 * 1024 * 1024  # absorbs bursts while the loop is busy
MAX_WAITING_PER_CLIENT = 256  # queries one client may have resolving at once
MAX_QUEUED_PER_CLIENT = 4096  # more wait their turn (a burst after an outage); beyond: dropped
MAX_TCP_PIPELINE = 32  # outstanding answers per TCP connection
MAX_TCP_CONNECTIONS = 512
TCP_MAX = 65535
TCP_WRITE_BUFFER = 64 * 1024  # unread answers held per connection before reading pauses


class DnsService:
    """What both transports share: admission, parsing, the chain, and fitting the answer."""

    def __init__(
        self, chain: Stage, acl: ClientAcl, limiter: RateLimiter, metrics: Metrics, clock: Clock
    ) -> None:
        self.chain = chain
        self.acl = acl
        self.limiter = limiter
        self.metrics = metrics
        self.clock = clock
        self.waiting: dict[str, int] = {}  # per client: queries waiting on an upstream
        self.queued: dict[str, deque[asyncio.Future[None]]] = {}  # and those waiting a turn

    def handle(self, data: bytes, host: str, transport: Transport) -> bytes | Awaitable | None:
        """The answer bytes, None for no answer, or an awaitable of either."""
        now = self.clock.monotonic()
        allowed = self.acl.allows(host)
        limiter = self.limiter
        # Outsiders share one bucket, so spoofed sources cannot reset anyone's limit.
        if limiter.rate > 0 and not limiter.allow(host if allowed else _OUTSIDERS, now):
            self.metrics.dropped["rate_limited"] += 1
            return None
        try:
            parsed = parse_query(data)
        except Drop:
            self.metrics.dropped["not_a_query"] += 1
            return None
        except Reject as reject:
            if not allowed:  # outsiders learn nothing, not even FORMERR
                self.metrics.dropped["refused_client"] += 1
                return None
            self.metrics.malformed[reject.reason] += 1
            return error_reply(reject)
        qid, flags, qname, qtype, qclass, question, edns = parsed
        if not allowed:
            self.metrics.dropped["refused_client"] += 1
            return error_reply(Reject(REFUSED, "client", qid, flags, question, edns))
        if edns is None:
            bits = 2 if flags & CD else 0
            max_size = TCP_MAX if transport is Transport.TCP else PLAIN_UDP_SIZE
        else:
            bits = (1 if edns.do else 0) | (2 if flags & CD else 0)
            max_size = TCP_MAX if transport is Transport.TCP else answer_limit(edns)
        qname = qname.lower()
        key = qname + question[-4:] + _BITS[bits]
        fields = (
            host,
            transport,
            qid,
            flags,
            qname,
            qtype,
            qclass,
            question,
            edns,
            now,
            key,
            max_size,
        )
        query = new_tuple(Query, fields)
        reply = self.chain(query)
        if type(reply) is Reply:
            wire = reply.wire
            return wire if len(wire) <= max_size else truncate(query, wire)
        waiting = self.waiting
        busy = waiting.get(host, 0)
        if busy < MAX_WAITING_PER_CLIENT:
            waiting[host] = busy + 1
            return self._finish(query, reply)
        return self._queue(query, reply)

    def _queue(self, query: Query, pending: Coroutine[Any, Any, Reply]) -> Awaitable | None:
        """One client already has its share resolving: this query waits for a free slot, so
        one client cannot tie up every socket, yet a burst (every device retrying once the
        upstream is back) is answered rather than lost. Beyond a long queue it is dropped."""
        turns = self.queued.setdefault(query.client, deque())
        if len(turns) >= MAX_QUEUED_PER_CLIENT:
            pending.close()
            self.metrics.dropped["too_many_waiting"] += 1
            return None
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        turns.append(turn)
        return self._finish(query, pending, turn)

    async def _finish(
        self,
        query: Query,
        pending: Coroutine[Any, Any, Reply],
        turn: asyncio.Future[None] | None = None,
    ) -> bytes:
        if turn is not None:
            try:
                await turn  # the slot of a query that finished is handed to us
            except BaseException:
                pending.close()
                raise
        try:
            return fit(query, await pending)
        finally:
            self._release(query.client)

    def _release(self, host: str) -> None:
        """A query finished: hand its slot to the client's next queued query, or free it."""
        turns = self.queued.get(host)
        while turns:
            turn = turns.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        if turns is not None:
            del self.queued[host]
        left = self.waiting[host] - 1
        if left:
            self.waiting[host] = left
        else:
            del self.waiting[host]


_BITS = [bytes([i]) for i in range(4)]
_OUTSIDERS = "outside allow_clients"


def fit(query: Query, reply: Reply) -> bytes:
    """The reply as sent: a TC=1 stub when it exceeds what the client can take over UDP."""
    wire = reply.wire
    return wire if len(wire) <= query.max_size else truncate(query, wire)


def truncate(query: Query, wire: bytes) -> bytes:
    """A valid TC=1 answer holding only the question (and OPT): the client retries over TCP."""
    flags = struct.unpack_from("!H", wire, 2)[0]
    return truncated(query.qid, flags, query.question, client_opt(query))


class UdpServer(asyncio.DatagramProtocol):
    """One UDP socket. Synchronous answers are sent at once; the rest when they complete."""

    def __init__(self, service: DnsService) -> None:
        self.service = service
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        try:
            result = self.service.handle(data, addr[0], Transport.UDP)
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

    def __init__(self, service: DnsService, limits: TcpLimits, metrics: Metrics) -> None:
        self.service = service
        self.limits = limits
        self.metrics = metrics
        self.connections: Counter[str] = Counter()
        self.writers: set[asyncio.StreamWriter] = set()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host = writer.get_extra_info("peername")[0]
        if not self.service.acl.allows(host):  # outsiders never hold a connection slot
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
            result = self.service.handle(message, host, Transport.TCP)
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
