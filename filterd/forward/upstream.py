"""Our upstream client: the only code that talks to the resolvers filterd forwards to.

Each query gets a fresh socket (so a fresh random source port from the kernel) and a random ID;
a reply is accepted only from the upstream's address and port, with that ID, QR=1 and the exact
question we sent (RFC 5452). Anything else is counted and ignored. TC=1 is retried over TCP.
Upstreams are tried in order, skipping those in backoff (Health says when), and a question is
never failed unsent; when none answers the caller gets None and answers SERVFAIL, never
NXDOMAIN.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass

from filterd.clock import Clock
from filterd.dns.records import Message, decode_message
from filterd.dns.wire import (
    EDNS_UDP_SIZE,
    HEADER,
    QR,
    RD,
    REFUSED,
    RR_FIXED,
    SERVFAIL,
    T_OPT,
    TC,
    FormatError,
)

MAX_BACKOFF = 10.0  # seconds an upstream judged down is skipped while others answer
FAILURES_BEFORE_BACKOFF = 3
PROBE_INTERVAL = 0.5  # a skipped upstream is sent a copy of a question this often, unwaited
DOWN_WAIT = 0.05  # seconds a question waits when every upstream is in backoff


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One configured upstream, host and port as written in the config."""

    host: str
    port: int

    @property
    def label(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def family(self) -> int:
        return socket.AF_INET6 if ":" in self.host else socket.AF_INET


class Health:
    """Whether one upstream is answering, judged fairly.

    Any genuine reply, whatever its rcode (REFUSED included), shows the upstream is alive. A
    question that fails counts against it only when nothing else was answered while it waited
    (a dead name times out however healthy the upstream is), and only for names not already
    counted (a dead name asked as A, AAAA and HTTPS is one piece of evidence). Backoff needs
    that for several names; it only makes filterd prefer other upstreams, since a question is
    always sent somewhere (see UpstreamClient.resolve), and a skipped upstream is probed so its
    return is noticed within a second.
    """

    __slots__ = (
        "down_until",
        "failed_names",
        "failures",
        "last_answer",
        "next_probe",
        "servfail_run",
    )

    def __init__(self) -> None:
        self.failures = 0
        # SERVFAILs in a row from this upstream: alive, but failing every name (Health says so)
        self.servfail_run = 0
        self.down_until = 0.0
        self.failed_names: set[bytes] = set()
        self.last_answer = float("-inf")
        self.next_probe = 0.0

    def succeeded(self, now: float = 0.0) -> None:
        self.failures = 0
        self.down_until = 0.0
        self.failed_names.clear()
        self.last_answer = max(self.last_answer, now)

    def failed(self, now: float, name: bytes, sent: float | None = None) -> None:
        """A question sent at `sent` got no usable reply by `now`."""
        if sent is not None and self.last_answer >= sent:
            return  # answered other questions meanwhile: this name's trouble, not the upstream's
        if name in self.failed_names:
            return
        if len(self.failed_names) < FAILURES_BEFORE_BACKOFF * 4:
            self.failed_names.add(name)
        self.failures += 1
        over = self.failures - FAILURES_BEFORE_BACKOFF
        if over >= 0:
            self.down_until = now + min(MAX_BACKOFF, 0.5 * 2**over)

    def usable(self, now: float) -> bool:
        return now >= self.down_until

    def answering(self, now: float) -> bool:
        """Answering as Health and the event log say it: out of backoff *and* no run of
        failed names since the last reply (a backoff ends by itself; `failures` only ends
        with a real reply), so a dead upstream never reads as back between questions."""
        return now >= self.down_until and self.failures < FAILURES_BEFORE_BACKOFF

    def replied(self, reply: Message) -> None:
        """Count a run of SERVFAIL replies (a broken resolver answers, but nothing resolves)."""
        self.servfail_run = self.servfail_run + 1 if reply.flags & 0xF == SERVFAIL else 0

    def failing(self, now: float) -> bool:
        """Down as a carer would say it: in backoff, or answering SERVFAIL to everything."""
        return not self.usable(now) or self.servfail_run >= FAILURES_BEFORE_BACKOFF

    def probe_due(self, now: float) -> bool:
        """True (and the next probe scheduled) when a skipped upstream should be probed now."""
        if now < self.next_probe:
            return False
        self.next_probe = now + PROBE_INTERVAL
        return True


class UpstreamFailure(Exception):
    """One attempt at one upstream failed; `kind` names how, for the metrics."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


ErrorSink = Callable[[str, str], None]  # (upstream label, kind) -> None


def build_query(qid: int, qname: bytes, qtype: int, qclass: int, do: bool, cd: bool) -> bytes:
    """Our query to an upstream: RD set, CD copied, EDNS with our 1232-byte size and DO copied."""
    flags = RD | (0x0010 if cd else 0)
    opt = b"\x00" + RR_FIXED.pack(T_OPT, EDNS_UDP_SIZE, 0x8000 if do else 0, 0)
    return HEADER.pack(qid, flags, 1, 0, 0, 1) + qname + struct.pack("!HH", qtype, qclass) + opt


def reply_matches(reply: bytes, qid: int, question: bytes) -> bool:
    """RFC 5452 checks: same ID, a response, standard opcode, one question, the same bytes."""
    if len(reply) < 12 + len(question):
        return False
    rid, flags, qdcount = struct.unpack_from("!HHH", reply)
    return (
        rid == qid
        and flags & QR != 0
        and flags & 0x7800 == 0
        and qdcount == 1
        and reply[12 : 12 + len(question)] == question
    )


class _Exchange(asyncio.DatagramProtocol):
    """Waits on one fresh UDP socket for the genuine reply; counts everything else."""

    def __init__(
        self,
        endpoint: Endpoint,
        qid: int,
        question: bytes,
        on_forged: Callable[[], None],
        result: asyncio.Future[bytes],
    ) -> None:
        self.endpoint = endpoint
        self.qid = qid
        self.question = question
        self.on_forged = on_forged
        self.result = result

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        if self.result.done():
            return
        if (
            addr[0] != self.endpoint.host
            or addr[1] != self.endpoint.port
            or not reply_matches(data, self.qid, self.question)
        ):
            self.on_forged()
            return
        self.result.set_result(data)

    def error_received(self, exc: Exception) -> None:
        if not self.result.done():
            self.result.set_exception(UpstreamFailure("unreachable"))


class UpstreamClient:
    """Forwards questions through the ordered upstream list with health tracking."""

    def __init__(
        self, endpoints: list[Endpoint], timeout: float, clock: Clock, on_error: ErrorSink
    ) -> None:
        self.clock = clock
        self.on_error = on_error
        self.health: dict[Endpoint, Health] = {}
        self._probes: set[asyncio.Task] = set()
        self.configure(endpoints, timeout)

    def configure(self, endpoints: list[Endpoint], timeout: float) -> None:
        """Adopt a new upstream list (config reload); known upstreams keep their health."""
        self.endpoints = list(endpoints)
        self.timeout = timeout
        self.health = {e: self.health.get(e, Health()) for e in self.endpoints}

    async def close(self) -> None:
        """Stop probes still waiting (shutdown)."""
        for task in list(self._probes):
            task.cancel()
        await asyncio.gather(*self._probes, return_exceptions=True)

    def order(self, now: float) -> list[Endpoint]:
        """Usable upstreams in config order; empty when all are in backoff."""
        return [e for e in self.endpoints if self.health[e].usable(now)]

    async def resolve(
        self, qname: bytes, qtype: int, qclass: int, do: bool, cd: bool
    ) -> Message | None:
        """The first genuine answer from the upstream list, or None when none gave one.

        REFUSED moves on to the next upstream (that one will not serve this question), and is
        the answer when no upstream gives a better one. The whole attempt is bounded by twice
        the per-upstream timeout. When every upstream is in backoff the question is still sent,
        to the one soonest back: waited for in full when that one answered within the last
        MAX_BACKOFF seconds (dead names put it there, not an outage), else for DOWN_WAIT, so
        the client gets its SERVFAIL (or stale answer) fast and a late answer ends the backoff.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 2 * self.timeout
        now = self.clock.monotonic()
        order = self.order(now)
        if not order and self.endpoints:
            soonest = min(self.endpoints, key=lambda e: self.health[e].down_until)
            if now - self.health[soonest].last_answer > MAX_BACKOFF:
                return await self._ask_while_down(soonest, qname, qtype, qclass, do, cd)
            # It answered lately (dead names put it here, not an outage): wait in full, or
            # every name slower than DOWN_WAIT would fail for the whole home.
            order = [soonest]
        if len(order) < len(self.endpoints):
            self._probe_skipped(order, now, qname, qtype, qclass, do, cd)
        refused: Message | None = None
        for endpoint in order:
            remaining = deadline - loop.time()
            if remaining <= 0.01:
                break
            health = self.health[endpoint]  # held: a reload may drop this upstream meanwhile
            sent = self.clock.monotonic()
            try:
                reply = await self._ask(
                    endpoint, qname, qtype, qclass, do, cd, min(self.timeout, remaining)
                )
            except UpstreamFailure as failure:
                self.on_error(endpoint.label, failure.kind)
                health.failed(self.clock.monotonic(), qname, sent)
                continue
            health.succeeded(self.clock.monotonic())
            health.replied(reply)
            if reply.flags & 0xF == REFUSED:
                self.on_error(endpoint.label, "refused")
                refused = refused or reply
                continue
            return reply
        return refused

    async def _ask_while_down(
        self, endpoint: Endpoint, qname: bytes, qtype: int, qclass: int, do: bool, cd: bool
    ) -> Message | None:
        """Every upstream in backoff and silent lately: the question goes to the one soonest
        back and the client waits DOWN_WAIT (a fast SERVFAIL or stale answer), but the
        exchange runs its full timeout: a late answer ends the backoff, and only a full
        timeout counts against the upstream."""
        health = self.health[endpoint]
        sent = self.clock.monotonic()
        task = asyncio.ensure_future(
            self._ask(endpoint, qname, qtype, qclass, do, cd, self.timeout)
        )
        task.add_done_callback(lambda done: self._judge(done, endpoint, health, qname, sent))
        try:
            reply = await asyncio.wait_for(asyncio.shield(task), DOWN_WAIT)
        except TimeoutError:
            self._probes.add(task)
            task.add_done_callback(self._probes.discard)
            return None
        except UpstreamFailure:
            return None
        return reply

    def _judge(
        self,
        done: asyncio.Future[Message],
        endpoint: Endpoint,
        health: Health,
        qname: bytes,
        sent: float,
    ) -> None:
        """Health and metrics from an exchange that finished after its client was answered."""
        if done.cancelled():
            return
        failure = done.exception()
        now = self.clock.monotonic()
        if isinstance(failure, UpstreamFailure):
            self.on_error(endpoint.label, failure.kind)
            health.failed(now, qname, sent)
        elif failure is None:
            health.succeeded(now)
            health.replied(done.result())
            if done.result().flags & 0xF == REFUSED:
                self.on_error(endpoint.label, "refused")

    def _probe_skipped(
        self,
        order: list[Endpoint],
        now: float,
        qname: bytes,
        qtype: int,
        qclass: int,
        do: bool,
        cd: bool,
    ) -> None:
        """Send a copy of this question, unwaited, to each upstream in backoff whose probe is
        due: its first answer ends the backoff, so a returning upstream is used again within
        about PROBE_INTERVAL rather than after the whole backoff."""
        for endpoint in self.endpoints:
            health = self.health[endpoint]
            if endpoint in order or not health.probe_due(now):
                continue
            task = asyncio.ensure_future(
                self._probe(endpoint, health, qname, qtype, qclass, do, cd)
            )
            self._probes.add(task)
            task.add_done_callback(self._probes.discard)

    async def _probe(
        self,
        endpoint: Endpoint,
        health: Health,
        qname: bytes,
        qtype: int,
        qclass: int,
        do: bool,
        cd: bool,
    ) -> None:
        try:
            reply = await self._ask(endpoint, qname, qtype, qclass, do, cd, self.timeout)
        except UpstreamFailure:
            return
        health.succeeded(self.clock.monotonic())
        health.replied(reply)

    async def _ask(
        self,
        endpoint: Endpoint,
        qname: bytes,
        qtype: int,
        qclass: int,
        do: bool,
        cd: bool,
        timeout: float,
    ) -> Message:
        qid = secrets.randbits(16)
        query = build_query(qid, qname, qtype, qclass, do, cd)
        question = query[12 : 12 + len(qname) + 4]
        started = asyncio.get_running_loop().time()
        reply = await self._udp(endpoint, query, qid, question, timeout)
        if reply[2] & (TC >> 8):
            remaining = timeout - (asyncio.get_running_loop().time() - started)
            qid = secrets.randbits(16)
            query = build_query(qid, qname, qtype, qclass, do, cd)
            reply = await self._tcp(endpoint, query, qid, question, max(remaining, 0.05))
        try:
            return decode_message(reply)
        except FormatError:
            raise UpstreamFailure("malformed") from None

    async def _udp(
        self, endpoint: Endpoint, query: bytes, qid: int, question: bytes, timeout: float
    ) -> bytes:
        loop = asyncio.get_running_loop()
        result: asyncio.Future[bytes] = loop.create_future()
        bind = "::" if endpoint.family == socket.AF_INET6 else "0.0.0.0"
        try:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Exchange(
                    endpoint, qid, question, lambda: self.on_error(endpoint.label, "forged"), result
                ),
                local_addr=(bind, 0),
                family=endpoint.family,
            )
        except OSError:  # no IPv6 here, out of descriptors: this upstream fails, try the next
            raise UpstreamFailure("socket") from None
        try:
            transport.sendto(query, (endpoint.host, endpoint.port))
            return await asyncio.wait_for(result, timeout)
        except TimeoutError:
            raise UpstreamFailure("timeout") from None
        except OSError:
            raise UpstreamFailure("socket") from None
        finally:
            transport.close()

    async def _tcp(
        self, endpoint: Endpoint, query: bytes, qid: int, question: bytes, timeout: float
    ) -> bytes:
        writer = None
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(endpoint.host, endpoint.port)
                writer.write(struct.pack("!H", len(query)) + query)
                await writer.drain()
                while True:
                    length = struct.unpack("!H", await reader.readexactly(2))[0]
                    reply = await reader.readexactly(length)
                    if reply_matches(reply, qid, question):
                        return reply
                    self.on_error(endpoint.label, "forged")
        except TimeoutError:
            raise UpstreamFailure("timeout") from None
        except (OSError, asyncio.IncompleteReadError):
            raise UpstreamFailure("tcp") from None
        finally:
            if writer is not None:
                writer.close()
