"""One checkout's filterd, in process, answering cached questions for bench.python_path.

Run by file path with the checkout first on PYTHONPATH, so it imports that checkout's filterd
and nothing else of this one (only the standard library and uvloop). It starts the real
Daemon from a config (real chain, cache, query log, clock), warms the cache through its real
upstream, and replaces the UDP socket's transport with one that only counts, so what is timed
is filterd's own work per packet from datagram_received to sendto: the socket layer below
(uvloop, the kernel) is the same for every checkout and is left out.

Protocol on stdin/stdout, one JSON object a line: it says {"ready": ...} with the Python calls
per answer, then answers each "measure" line with {"us": ...} and stops at "stop".
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import sys
import time
from pathlib import Path

NAMES = 10_000  # bench.queries: www.site{i}.bench.test, the forwarder benchmark's names
CLIENT = ("127.0.0.1", 40000)  # the benchmarks' own client (dnsperf) asks from loopback
PASSES = 3  # each measure: the best of this many passes over every name
COUNTED = 1000  # answers whose Python calls are counted


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _packet(i: int) -> bytes:
    """An A question as dnsperf sends it: RD set, no EDNS."""
    labels = f"www.site{i}.bench.test".encode().split(b".")
    name = b"".join(bytes([len(label)]) + label for label in labels) + b"\x00"
    return struct.pack("!HHHHHH", i & 0xFFFF, 0x0100, 1, 0, 0, 0) + name + b"\x00\x01\x00\x01"


class CountingTransport:
    """Stands in for the UDP transport: counts what would be sent."""

    def __init__(self) -> None:
        self.sent = 0

    def sendto(self, data: bytes, addr: tuple) -> None:
        self.sent += 1

    def is_closing(self) -> bool:
        return False


def _say(message: dict) -> None:
    print(json.dumps(message), flush=True)


def _calls_per_answer(receive, packets: list[bytes]) -> float:
    """Python function calls (frames) per cached answer, the counting transport's left out:
    the fewest of three counts, so a memo refilled once (a list or catalogue swapped in by
    its watcher meanwhile) is not counted as the path's own."""
    fewest = float("inf")
    for _ in range(3):
        calls = 0

        def count(frame, event, arg) -> None:
            nonlocal calls
            if event == "call" and frame.f_code.co_name != "sendto":
                calls += 1

        sys.setprofile(count)
        for data in packets[:COUNTED]:
            receive(data, CLIENT)
        sys.setprofile(None)
        fewest = min(fewest, calls / COUNTED)
    return fewest


async def main(upstream: str, workdir: Path) -> None:
    from filterd.config import load_config  # the checkout's own, from PYTHONPATH
    from filterd.daemon import Daemon

    config_path = workdir / "filterd.yaml"
    config_path.write_text(
        f'listen: ["127.0.0.1:{_free_port()}"]\n'
        f'upstreams: ["{upstream}"]\n'
        'allow_clients: ["127.0.0.0/8"]\n'
        f'database: "{workdir / "filterd.db"}"\n'
        "cache: {max_entries: 200000, max_megabytes: 256}\n"
        "rate_limit: {queries_per_second: 0}\n",
        encoding="utf-8",
    )
    daemon = Daemon(load_config(config_path), config_path)
    await daemon.start()
    protocol = daemon._transports[0].get_protocol()
    real, fake = protocol.transport, CountingTransport()
    protocol.transport = fake
    receive = protocol.datagram_received
    packets = [_packet(i) for i in range(NAMES)]
    for start in range(0, NAMES, 200):  # warm: each name once from the upstream
        batch = packets[start : start + 200]
        fake.sent = 0
        for data in batch:
            receive(data, CLIENT)
        deadline = time.monotonic() + 10
        while fake.sent < len(batch) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
    fake.sent = 0
    for data in packets:
        receive(data, CLIENT)
    if fake.sent != NAMES:  # every answer must come from the cache, sent at once
        raise SystemExit(f"only {fake.sent} of {NAMES} answered from the cache")
    _say({"ready": True, "calls": _calls_per_answer(receive, packets)})
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if line.strip() != "measure":
            break
        best = float("inf")
        for _ in range(PASSES):
            await asyncio.sleep(0.15)  # the query log's flush runs, as between real packets
            started = time.thread_time()
            for data in packets:
                receive(data, CLIENT)
            best = min(best, time.thread_time() - started)
        _say({"us": best * 1e6 / NAMES})
    protocol.transport = real
    await daemon.stop()


if __name__ == "__main__":
    try:
        import uvloop  # as `filterd run` does when it is installed
    except ImportError:
        uvloop = None
    coroutine = main(sys.argv[1], Path(sys.argv[2]))
    if uvloop is not None:
        uvloop.run(coroutine)
    else:
        asyncio.run(coroutine)
