"""One device asking dead names must not fail the rest of a quiet home's new names.

Found from outside (issue 11, finding 3 again): with one upstream and a device asking 20 dead
names a second, the upstream stayed in backoff; every other question was then sent but waited
for only 50 ms, so each name whose answer takes longer (a cold lookup on the internet takes
50-300 ms) got SERVFAIL: 10 of 10 in a running filterd. Its late answer was thrown away, so
nothing ever showed the upstream was alive. Now a late answer ends the backoff, and an
upstream that answered within the backoff window is waited for in full.
Real UDP upstream on loopback; no mock."""

from __future__ import annotations

import asyncio
import time

from dnslib import RR, A, DNSRecord

from filterd.clock import SystemClock
from filterd.dns.wire import text_to_wire
from filterd.forward.upstream import Endpoint, UpstreamClient
from tests.support.handler_upstream import HandlerUpstream

LOOKUP_TIME = 0.2  # a cold lookup on the internet


def answer(query: DNSRecord) -> DNSRecord | None:
    name = str(query.q.qname)
    if name.startswith("dead-"):
        return None  # times out, however healthy the upstream is
    time.sleep(LOOKUP_TIME)
    reply = query.reply()
    reply.add_answer(RR(query.q.qname, rdata=A("192.0.2.80"), ttl=60))
    return reply


def test_new_names_resolve_while_one_device_asks_dead_names() -> None:
    async def home(address: str) -> list[bool]:
        host, port = address.split(":")
        client = UpstreamClient(
            [Endpoint(host, int(port))], 0.8, SystemClock(), lambda label, kind: None
        )

        async def ask(name: str):
            return await client.resolve(text_to_wire(name), 1, 1, False, False)

        pending: set[asyncio.Future] = set()

        async def noisy_device() -> None:
            number = 0
            while True:
                number += 1
                asking = asyncio.ensure_future(ask(f"dead-{number}.example"))
                pending.add(asking)
                asking.add_done_callback(pending.discard)
                await asyncio.sleep(0.05)  # 20 a second

        noise = asyncio.ensure_future(noisy_device())
        await asyncio.sleep(2.0)  # long enough for the upstream to be put in backoff
        answered = []
        for number in range(6):  # another device, a new name every 0.6 s
            answered.append(await ask(f"new-{number}.example") is not None)
            await asyncio.sleep(0.6)
        noise.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await client.close()
        return answered

    with HandlerUpstream(answer) as upstream:
        answered = asyncio.run(home(upstream.addr))
    assert answered[1:] == [True] * 5, answered  # at most the first is lost, then all answer
