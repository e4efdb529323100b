"""Soak benchmark: a home's traffic for 10 minutes while everything around filterd goes wrong.

`python -m bench soak` (10 minutes; `--quick` 90 s). filterd runs with shipped lists and a
rules file naming two children with different rules and an adult's device; the harness sends
2,000 queries a second from the three devices (127.0.0.2 Sam, 9-12: gambling, social and
adult blocked; 127.0.0.3 Alex, 16-17: gambling and adult blocked; 127.0.0.4 the carer's
laptop: the household floor, adult blocked): names from the lists, helplines, a pool of
ordinary names and a stream of never-seen ones. Meanwhile the upstream is killed and restarted
every minute (down 3 s), the rules file is edited (valid edits, a file cut short, an unknown
key, every child removed by accident), the lists are rebuilt and swapped in, and filterd gets
SIGHUP.

Every answer is checked name by name against what that device must get: a leak is a blocked
name answered with a real address, an over-block an allowed name answered as blocked. Then the
figures: queries sent, answered, unanswered (no reply within 2 s), SERVFAIL (inside and
outside the outages), wrong answers, query log rows against answers (helplines apart: they are
never logged), memory at start and end. A leak, an over-block, a crash or a lost log row fails
the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bench import servers
from bench.machine import Pinning
from bench.options import RunOptions
from bench.report import format_table
from filterd.dns.records import decode_message
from filterd.dns.wire import FormatError
from filterd.rules.guards import with_end_line

NAME = "soak"

RATE = 2000  # queries a second, all devices together
ANSWER_TIMEOUT = 2.0  # seconds after which a query counts as unanswered
TICK = 0.01
OUTAGE_SECONDS = 3.0
SETTLE_AFTER_OUTAGE = 2.0  # SERVFAIL this soon after an outage counts as "in the outage"


@dataclass(frozen=True)
class Schedule:
    seconds: float
    upstream_kill_every: float
    rules_edit_every: float
    lists_update_every: float
    sighup_every: float


FULL = Schedule(600, 60, 45, 150, 100)
QUICK = Schedule(90, 20, 12, 30, 25)

SAM, ALEX, CARER = "127.0.0.2", "127.0.0.3", "127.0.0.4"
DEVICES = (SAM, ALEX, CARER)
LISTED = {"gambling": 300, "social": 300, "adult": 200, "helplines": 20}
BLOCKED_FOR = {
    SAM: {"gambling", "social", "adult"},
    ALEX: {"gambling", "adult"},
    CARER: {"adult"},
}
ORDINARY = 3000
MIX = (  # kind of name, share of the queries
    ("ordinary", 0.58),
    ("fresh", 0.07),
    ("gambling", 0.10),
    ("social", 0.10),
    ("adult", 0.10),
    ("helplines", 0.05),
)
NULL_IP = b"\x00\x00\x00\x00"


def listed_name(kind: str, number: int) -> str:
    return f"{kind}{number}.soak-lists.example"


def rules(edit: int = 0) -> dict[str, Any]:
    """The rules in force; `edit` changes something no query asks about (a valid edit)."""
    return {
        "timezone": "Europe/London",
        "unknown_devices": "household",
        "children": {
            "sam": {
                "name": "Sam",
                "age_band": "9_12",
                "offline": [],  # no bedtime: the expectations hold at any hour of the run
                "always_allow": [f"homework{edit}.example"],
            },
            "alex": {"name": "Alex", "age_band": "16_17", "offline": []},
        },
        "devices": [
            {"ip": SAM, "name": "Sam's tablet", "owner": "sam"},
            {"ip": ALEX, "name": "Alex's phone", "owner": "alex"},
            {"ip": CARER, "name": "Carer's laptop", "owner": "none"},
        ],
    }


def rules_edits() -> list[tuple[str, str]]:
    """(kind, file text) in the order they are applied, cycling; broken ones are refused."""
    good = [with_end_line(yaml.safe_dump(rules(n))) for n in range(1, 5)]
    whole = good[0]
    cut = whole[: whole.index("\ndevices:") + 1]  # valid YAML, no devices, no end line
    unknown_key = good[1].replace("timezone:", "bedtime: 9pm\ntimezone:")
    emptied = with_end_line(yaml.safe_dump(dict(rules(), children={}, devices=[])))
    return [
        ("valid", good[0]),
        ("cut short", cut),
        ("valid", good[1]),
        ("unknown key", unknown_key),
        ("valid", good[2]),
        ("every child removed", emptied),
        ("valid", good[3]),
    ]


@dataclass
class Tally:
    sent: int = 0
    answered: int = 0
    unanswered: int = 0
    helplines_answered: int = 0
    correct: int = 0
    leaks: int = 0
    overblocks: int = 0
    wrong_address: int = 0
    blocked_not_answered_blocked: int = 0
    servfail_in_outage: int = 0
    servfail_outside: int = 0
    other_rcode: int = 0
    examples: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if len(self.examples) < 10:
            self.examples.append(text)


class Device(asyncio.DatagramProtocol):
    """One device's socket: sends questions and checks each answer against expectations."""

    def __init__(self, address: str, soak: Soak) -> None:
        self.address = address
        self.soak = soak
        self.transport: asyncio.DatagramTransport | None = None
        self.waiting: dict[int, tuple[str, str, float]] = {}  # id -> (name, kind, sent)
        self.next_id = random.randrange(65536)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def ask(self, name: str, kind: str, now: float) -> None:
        qid = self.next_id = (self.next_id + 1) & 0xFFFF
        if qid in self.waiting:  # 65,536 questions outstanding cannot happen at 2 s timeouts
            self.soak.tally.unanswered += 1
        wire = b"".join(bytes([len(p)]) + p for p in name.encode().split(b".")) + b"\x00"
        packet = qid.to_bytes(2, "big") + b"\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
        self.transport.sendto(
            packet + wire + b"\x00\x01\x00\x01", (servers.LOOPBACK, self.soak.port)
        )
        self.waiting[qid] = (name, kind, now)
        self.soak.tally.sent += 1

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        if len(data) < 12:
            return
        asked = self.waiting.pop(int.from_bytes(data[:2], "big"), None)
        if asked is not None:
            self.soak.judge(self.address, *asked, data)

    def expire(self, now: float) -> None:
        late = [qid for qid, (_, _, sent) in self.waiting.items() if now - sent > ANSWER_TIMEOUT]
        for qid in late:
            name, _, _ = self.waiting.pop(qid)
            self.soak.tally.unanswered += 1
            self.soak.tally.note(f"unanswered: {name} from {self.address}")


class Soak:
    """The traffic, the checks and the trouble, all on one event loop."""

    def __init__(self, port: int, schedule: Schedule) -> None:
        self.port = port
        self.schedule = schedule
        self.tally = Tally()
        self.outages: list[tuple[float, float]] = []  # (down, back) monotonic seconds
        self.upstream_down = False
        self.fresh = 0

    def in_outage(self, sent: float) -> bool:
        if self.upstream_down:
            return True
        return any(down <= sent <= back + SETTLE_AFTER_OUTAGE for down, back in self.outages)

    def judge(self, device: str, name: str, kind: str, sent: float, data: bytes) -> None:
        tally = self.tally
        tally.answered += 1
        rcode = data[3] & 0xF
        try:
            message = decode_message(data)
        except FormatError:
            tally.other_rcode += 1
            tally.note(f"malformed answer for {name}")
            return
        addresses = [r.rdata for r in message.answer if r.rtype == 1]
        as_blocked = addresses == [NULL_IP]
        if kind == "helplines":
            tally.helplines_answered += 1
        if kind in BLOCKED_FOR[device]:
            if as_blocked:
                tally.correct += 1
            elif addresses:
                tally.leaks += 1
                tally.note(f"LEAK: {name} ({kind}) answered for {device}")
            else:
                tally.blocked_not_answered_blocked += 1
                tally.note(f"blocked name {name} for {device}: rcode {rcode}")
            return
        if as_blocked:
            tally.overblocks += 1
            tally.note(f"OVER-BLOCK: {name} ({kind}) blocked for {device}")
        elif rcode == 0 and addresses:
            if addresses == [expected_address(name)]:
                tally.correct += 1
            else:
                tally.wrong_address += 1
                tally.note(f"wrong address for {name}")
        elif rcode == 2:
            if self.in_outage(sent):
                tally.servfail_in_outage += 1
            else:
                tally.servfail_outside += 1
                tally.note(f"SERVFAIL outside an outage: {name} from {device}")
        else:
            tally.other_rcode += 1
            tally.note(f"rcode {rcode} for {name} from {device}")

    def pick(self) -> tuple[str, str]:
        roll = random.random()
        kind = MIX[-1][0]
        for candidate, share in MIX:
            roll -= share
            if roll < 0:
                kind = candidate
                break
        if kind == "ordinary":
            return f"www{random.randrange(ORDINARY)}.soak.example", kind
        if kind == "fresh":
            self.fresh += 1
            return f"new{self.fresh}-{random.randrange(1 << 30)}.soak.example", kind
        return listed_name(kind, random.randrange(LISTED[kind])), kind

    async def traffic(self, devices: list[Device], stop_at: float) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        sent = 0
        next_expiry = started
        while (now := loop.time()) < stop_at:
            due = int((now - started) * RATE) - sent
            for _ in range(due):
                name, kind = self.pick()
                random.choice(devices).ask(name, kind, time.monotonic())
            sent += max(due, 0)
            if now >= next_expiry:
                next_expiry = now + 0.5
                for device in devices:
                    device.expire(time.monotonic())
            await asyncio.sleep(TICK)
        await asyncio.sleep(ANSWER_TIMEOUT + 0.2)
        for device in devices:
            device.expire(time.monotonic() + ANSWER_TIMEOUT + 1)


@dataclass
class Trouble:
    """Counts of what was done to filterd during the run."""

    upstream_kills: int = 0
    rules_edits: dict[str, int] = field(default_factory=dict)
    list_updates: int = 0
    list_update_failures: int = 0
    sighups: int = 0


async def every(seconds: float, stop_at: float, action) -> None:
    loop = asyncio.get_running_loop()
    while loop.time() + seconds < stop_at:
        await asyncio.sleep(seconds)
        await action()


def metric_values(port: int) -> dict[str, float]:
    """Every filterd_ sample, summed over labels except the ones we split on."""
    url = f"http://{servers.LOOPBACK}:{port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    values: dict[str, float] = {}
    for line in text.splitlines():
        if not line.startswith("filterd_"):
            continue
        head, _, value = line.rpartition(" ")
        name = head.partition("{")[0]
        if name == "filterd_queries_total" and 'reason="helpline"' in head:
            name = "filterd_queries_total_helpline"
        values[name] = values.get(name, 0.0) + float(value)
    return values


def expected_address(name: str) -> bytes:
    from tests.support.scripted_upstream import default_a

    return bytes(int(part) for part in default_a(name).split("."))


def write_lists(directory: Path) -> None:
    directory.mkdir(parents=True)
    for kind, count in LISTED.items():
        lines = "".join(f"{listed_name(kind, n)}\n" for n in range(count))
        (directory / f"{kind}.txt").write_text(lines, encoding="utf-8")


def run(options: RunOptions, pinning: Pinning) -> dict[str, Any]:
    from tests.support.upstream_process import ScriptedUpstream  # written alongside filterd

    schedule = QUICK if options.quick else FULL
    with tempfile.TemporaryDirectory(prefix="filterd-soak-", ignore_cleanup_errors=True) as tmp:
        workdir = Path(tmp)
        write_lists(workdir / "shipped")
        rules_path = workdir / "rules.yaml"
        rules_path.write_text(with_end_line(yaml.safe_dump(rules())), encoding="utf-8")
        extra = (
            f'rules: "{rules_path}"\n'
            "block_categories: [illegal, adult]\n"
            f'lists_update: {{directory: "{workdir / "lists"}", shipped: "{workdir / "shipped"}",'
            " refresh_hours: 0}\n"
        )
        with ScriptedUpstream(host=servers.LOOPBACK) as upstream:
            print(f"[{NAME}] {schedule.seconds:.0f} s at {RATE} queries/s ...", flush=True)
            with servers.start(
                "filterd", upstream.addr, workdir, pinning, "www0.soak.example", filterd_extra=extra
            ) as server:
                config = workdir / "filterd.yaml"
                result = asyncio.run(soak(server, upstream, config, rules_path, schedule))
                result["metrics"] = metric_values(server.metrics_port)
                result["rss_end_kib"] = server.memory_kib(("VmRSS",))["VmRSS"]
                result["alive_at_end"] = server.process.poll() is None
                result["log_tracebacks"] = server.log_path.read_text(errors="replace").count(
                    "Traceback"
                )
            result["log_rows"] = count_rows(workdir / "filterd.db")
    return finish(result, schedule)


async def soak(server, upstream, config: Path, rules_path: Path, schedule: Schedule) -> dict:
    loop = asyncio.get_running_loop()
    soak = Soak(server.port, schedule)
    devices = []
    for address in DEVICES:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        sock.bind((address, 0))
        _, device = await loop.create_datagram_endpoint(
            lambda a=address: Device(a, soak), sock=sock
        )
        devices.append(device)
    udp_errors = kernel_udp_receive_errors()
    await asyncio.sleep(1.0)
    rss_start = server.memory_kib(("VmRSS",))["VmRSS"]
    trouble = Trouble()
    edits = rules_edits()
    stop_at = loop.time() + schedule.seconds

    async def kill_upstream() -> None:
        soak.upstream_down = True
        down = time.monotonic()
        await asyncio.to_thread(upstream.stop)
        await asyncio.sleep(OUTAGE_SECONDS)
        await asyncio.to_thread(upstream.start)
        soak.outages.append((down, time.monotonic()))
        soak.upstream_down = False
        trouble.upstream_kills += 1

    async def edit_rules() -> None:
        kind, text = edits[sum(trouble.rules_edits.values()) % len(edits)]
        temporary = rules_path.with_suffix(".tmp")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(rules_path)
        trouble.rules_edits[kind] = trouble.rules_edits.get(kind, 0) + 1

    async def update_lists() -> None:
        command = [sys.executable, "-m", "filterd", "lists", "update", "--offline"]
        done = await asyncio.to_thread(
            subprocess.run, [*command, "--config", str(config)], capture_output=True
        )
        trouble.list_updates += 1
        trouble.list_update_failures += done.returncode != 0

    async def sighup() -> None:
        server.process.send_signal(signal.SIGHUP)
        trouble.sighups += 1

    tasks = [
        asyncio.ensure_future(every(schedule.upstream_kill_every, stop_at, kill_upstream)),
        asyncio.ensure_future(every(schedule.rules_edit_every, stop_at, edit_rules)),
        asyncio.ensure_future(every(schedule.lists_update_every, stop_at, update_lists)),
        asyncio.ensure_future(every(schedule.sighup_every, stop_at, sighup)),
    ]
    await soak.traffic(devices, stop_at)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    if not upstream.running:
        upstream.start()
    for device in devices:
        device.transport.close()
    return {
        "tally": vars(soak.tally),
        "trouble": vars(trouble),
        "rss_start_kib": rss_start,
        "kernel_udp_receive_errors": kernel_udp_receive_errors() - udp_errors,
    }


def kernel_udp_receive_errors() -> int:
    """UDP datagrams the kernel dropped for a full receive buffer (any socket on the machine):
    tells a loss in the harness or the machine from one inside filterd."""
    lines = Path("/proc/net/snmp").read_text().splitlines()
    udp = [line.split() for line in lines if line.startswith("Udp:")]
    header, values = udp[0], udp[1]
    return int(values[header.index("RcvbufErrors")])


def count_rows(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute("SELECT count(*) FROM queries").fetchone()[0]


def finish(result: dict[str, Any], schedule: Schedule) -> dict[str, Any]:
    metrics = result["metrics"]
    answers = metrics.get("filterd_queries_total", 0.0)
    helplines = metrics.get("filterd_queries_total_helpline", 0.0)
    result["filterd_answers_not_helpline"] = int(answers)  # helpline samples counted apart
    result["filterd_helpline_answers"] = int(helplines)
    result["log_rows_missing"] = result["filterd_answers_not_helpline"] - result["log_rows"]
    result["querylog_dropped_metric"] = int(metrics.get("filterd_querylog_dropped_total", 0))
    result["schedule"] = vars(schedule)
    result["rate"] = RATE
    return {"benchmark": NAME, **result}


def failed(data: dict[str, Any]) -> bool:
    tally = data["tally"]
    return bool(
        tally["leaks"]
        or tally["overblocks"]
        or tally["blocked_not_answered_blocked"]
        or tally["wrong_address"]
        or tally["servfail_outside"]
        or not data["alive_at_end"]
        or data["log_rows_missing"]
    )


def summary(data: dict[str, Any]) -> str:
    tally, trouble = data["tally"], data["trouble"]
    rows = [
        ["queries sent", f"{tally['sent']:,}"],
        ["answered", f"{tally['answered']:,}"],
        ["unanswered (no reply in 2 s)", f"{tally['unanswered']:,}"],
        ["right answers, checked name by name", f"{tally['correct']:,}"],
        ["leaks (blocked name answered)", str(tally["leaks"])],
        ["over-blocks (allowed name blocked)", str(tally["overblocks"])],
        ["blocked name not answered as blocked", str(tally["blocked_not_answered_blocked"])],
        ["wrong address", str(tally["wrong_address"])],
        ["SERVFAIL in an outage (new names)", f"{tally['servfail_in_outage']:,}"],
        ["SERVFAIL outside the outages", str(tally["servfail_outside"])],
        ["other rcodes", str(tally["other_rcode"])],
        [
            "  filterd_dropped_queries_total",
            str(int(data["metrics"].get("filterd_dropped_queries_total", 0))),
        ],
        ["  kernel UDP receive-buffer drops", str(data["kernel_udp_receive_errors"])],
        ["helplines answered (never logged)", f"{tally['helplines_answered']:,}"],
        ["filterd's answers, helplines apart", f"{data['filterd_answers_not_helpline']:,}"],
        ["query log rows", f"{data['log_rows']:,}"],
        ["  rows missing", str(data["log_rows_missing"])],
        ["  filterd_querylog_dropped_total", str(data["querylog_dropped_metric"])],
        [
            "memory at start / end (MiB)",
            f"{data['rss_start_kib'] / 1024:.1f} / {data['rss_end_kib'] / 1024:.1f}",
        ],
        ["filterd alive at the end", "yes" if data["alive_at_end"] else "NO"],
        ["tracebacks in its log", str(data["log_tracebacks"])],
        ["upstream killed and restarted", str(trouble["upstream_kills"])],
        ["rules edits", ", ".join(f"{k} {n}" for k, n in trouble["rules_edits"].items())],
        ["list updates (failed)", f"{trouble['list_updates']} ({trouble['list_update_failures']})"],
        ["SIGHUPs", str(trouble["sighups"])],
    ]
    lines = [format_table(["", "filterd"], rows)]
    lines += [f"  {example}" for example in tally["examples"]]
    lines.append("FAIL" if failed(data) else "PASS  no wrong answer, no crash, nothing lost")
    return "\n".join(lines)
