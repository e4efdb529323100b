"""In-process pieces for testing one stage of the chain: real Queries, a fake next stage, a
clock the test moves. No process, no socket."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field

from dnslib import QTYPE, RR, A, DNSRecord

from filterd.dns.query import Query, Reason, Reply, Transport
from filterd.serve.admission import Parse
from filterd.serve.metrics import ServeCounters
from tests.support.dns_client import make_query


@dataclass
class MovableClock:
    """Both clocks of filterd.clock.Clock, moved by the test."""

    now: float = 1_700_000_000.0  # wall clock, epoch seconds
    mono: float = 1000.0

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.mono += seconds


def packet(name: str, qtype: str = "A", **kwargs) -> bytes:
    """A client's query as bytes (kwargs: edns, do, bufsize, as tests.support.dns_client)."""
    return bytes(make_query(name, qtype, **kwargs).pack())


def query_of(
    name: str,
    qtype: str = "A",
    client: str = "127.0.0.1",
    transport: Transport = Transport.UDP,
    clock: MovableClock | None = None,
    **kwargs,
) -> Query:
    """The Query filterd's own Parse stage makes of this question."""
    made: list[Query] = []
    Parse(made.append, ServeCounters(), clock or MovableClock())(
        packet(name, qtype, **kwargs), client, transport
    )
    return made[0]


def reply_to(query: Query, address: str = "192.0.2.1", ttl: int = 300, size: int = 0) -> Reply:
    """An upstream-like answer for the query: one A record, and `size` bytes of TXT padding."""
    record = DNSRecord.parse(_rebuild(query))
    answer = record.reply()
    answer.add_answer(RR(record.q.qname, QTYPE.A, rdata=A(address), ttl=ttl))
    while size > 0:
        chunk = min(size, 255)
        answer.add_answer(RR.fromZone(f'{record.q.qname} {ttl} IN TXT "{"x" * chunk}"')[0])
        size -= chunk + 20
    return Reply(bytes(answer.pack()), 0, Reason.FORWARDED, False)


def _rebuild(query: Query) -> bytes:
    """The query's header and question as bytes (enough for dnslib to build a reply)."""
    header = query.qid.to_bytes(2, "big") + query.flags.to_bytes(2, "big") + b"\x00\x01" + bytes(6)
    return header + query.question


@dataclass
class NextStage:
    """A fake stage below the one under test: records what reached it and answers each query
    with `answer(query)`, at once or (later=True) after the event loop runs."""

    later: bool = False
    answer: object = reply_to
    seen: list[Query] = field(default_factory=list)

    def __call__(self, query: Query) -> Reply | Awaitable[Reply]:
        self.seen.append(query)
        reply = self.answer(query)
        if not self.later:
            return reply
        return self._after(reply)

    @staticmethod
    async def _after(reply: Reply) -> Reply:
        await asyncio.sleep(0)
        return reply


def settle(result):
    """The value of a stage's result, running the event loop when it is awaitable."""
    if isinstance(result, Awaitable):
        return asyncio.run(_await(result))
    return result


async def _await(pending):
    return await pending
