"""Start, probe and stop the DNS servers under test, and read what they cost (RSS, CPU).

Every server is a subprocess we own: it is stopped on exit, Ctrl-C or error, and it is
also sent SIGKILL by the kernel if the harness itself dies (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dnslib import QTYPE, DNSRecord

from bench.machine import Pinning

LOOPBACK = "127.0.0.1"
"""The only address the benchmark ever sends to or listens on."""

READY_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
PR_SET_PDEATHSIG = 1


class ServerError(RuntimeError):
    """A server could not be started or died during the benchmark."""


def free_port() -> int:
    """A loopback port free for both UDP and TCP right now (DNS servers listen on both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((LOOPBACK, 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((LOOPBACK, port))
                except OSError:
                    continue
                return port
    raise ServerError("no free loopback port")


def dns_answers(port: int, name: str, timeout: float = 0.5) -> bool:
    """True when a UDP A query for ``name`` to 127.0.0.1:port gets a NOERROR reply."""
    query = DNSRecord.question(name, "A")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.sendto(query.pack(), (LOOPBACK, port))
            data, _ = sock.recvfrom(4096)
        except OSError:
            return False
    try:
        reply = DNSRecord.parse(data)
    except Exception:
        return False
    return (
        reply.header.id == query.header.id
        and reply.header.rcode == 0
        and any(rr.rtype == QTYPE.A for rr in reply.rr)
    )


def _die_with_parent() -> None:
    """Runs in the child before exec: get SIGKILL if the harness dies without cleaning up."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass
class Server:
    """A running server: its name, port, process and log file."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        """PID of the server itself (taskset execs, so it is the same process)."""
        return self.process.pid

    def check_alive(self) -> None:
        """Raise with the log tail if the server has exited, so a crash is not read as slow."""
        code = self.process.poll()
        if code is not None:
            raise ServerError(f"{self.name} exited with code {code}:\n{self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        """Last lines of the server's output, for error messages."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def peak_rss_kib(self) -> int:
        """Peak resident set (VmHWM) of the server and any processes it forked, in KiB."""
        return sum(_status_kib(pid, "VmHWM") for pid in _process_tree(self.pid))

    def cpu_seconds(self) -> float:
        """User + system CPU time used so far by the server (all threads and its children)."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in _process_tree(self.pid):
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick
        return total


def _status_kib(pid: int, key: str) -> int:
    """A 'kB' field from /proc/PID/status, 0 if the process is gone."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def _process_tree(root: int) -> list[int]:
    """``root`` and its descendants, so forking servers are measured whole."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


@contextlib.contextmanager
def running(
    name: str, argv: list[str], port: int, workdir: Path, probe_name: str
) -> Iterator[Server]:
    """Start ``argv``, wait until it answers DNS on ``port``, and always stop it afterwards."""
    log_path = workdir / f"{name}.log"
    with open(log_path, "wb") as log:
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=workdir,
                start_new_session=True,  # Ctrl-C reaches the harness, which stops us in order
                preexec_fn=_die_with_parent,
            )
        except OSError as exc:
            raise ServerError(f"cannot start {name}: {exc}") from exc
    server = Server(name, port, process, log_path)
    try:
        _wait_ready(server, probe_name)
        yield server
    finally:
        stop(process)


def _wait_ready(server: Server, probe_name: str) -> None:
    """Poll with a real query: a listening socket is not the same as a working server."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        server.check_alive()
        if dns_answers(server.port, probe_name):
            return
        time.sleep(0.1)
    raise ServerError(
        f"{server.name} did not answer on {LOOPBACK}:{server.port} within "
        f"{READY_TIMEOUT:.0f} s:\n{server.log_tail()}"
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it lingers; only ever this one process group we started."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT)


def filterd_command() -> list[str]:
    """The console script if installed in this venv, else ``python -m filterd``."""
    script = Path(sys.executable).parent / "filterd"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "filterd"]


def filterd_config(port: int, upstream_addr: str, workdir: Path) -> Path:
    """Write filterd's YAML config: big cache, no rate limit, loopback only."""
    metrics_port = free_port()
    text = (
        f'listen: ["{LOOPBACK}:{port}"]\n'
        f'upstreams: ["{upstream_addr}"]\n'
        'allow_clients: ["127.0.0.0/8"]\n'
        f'database: "{workdir / "filterd.db"}"\n'
        f'metrics: "{LOOPBACK}:{metrics_port}"\n'
        f"cache: {{max_entries: {CACHE_ENTRIES}, max_megabytes: 256}}\n"
        "rate_limit: {queries_per_second: 0}\n"
    )
    path = workdir / "filterd.yaml"
    path.write_text(text, encoding="utf-8")
    return path


CACHE_ENTRIES = 200_000
"""Cache capacity given to both servers (filterd max_entries, dnsmasq --cache-size).
dnsmasq accepts up to 5,000,000 but preallocates every slot (RSS ~550 MB there, ~27 MB at
200,000, ~7 MB at 20,000), so its RSS depends on this choice: equal capacity is the fair
comparison, and 200,000 holds the 10,000 names many times over."""


def dnsmasq_argv(port: int, upstream_addr: str, workdir: Path) -> list[str]:
    """dnsmasq as a plain caching forwarder that reads and writes no system files."""
    host, upstream_port = upstream_addr.rsplit(":", 1)
    argv = [
        shutil.which("dnsmasq") or "dnsmasq",
        "--no-daemon",
        "--conf-file=/dev/null",  # do not read /etc/dnsmasq.conf
        "--no-resolv",
        "--no-hosts",
        "--no-poll",
        "--bind-interfaces",
        f"--listen-address={LOOPBACK}",
        f"--port={port}",
        f"--server={host}#{upstream_port}",
        f"--cache-size={CACHE_ENTRIES}",
        "--pid-file=",  # no pid file
        "--log-facility=-",  # startup lines to stderr (our log file), not syslog
    ]
    if os.geteuid() == 0:
        argv.append("--user=root")  # no switch to 'nobody' (may not exist in containers)
    return argv


@contextlib.contextmanager
def start(
    name: str, upstream_addr: str, workdir: Path, pinning: Pinning, probe_name: str
) -> Iterator[Server]:
    """Start server ``name`` ('filterd' or 'dnsmasq') pinned to the server core."""
    port = free_port()
    if name == "filterd":
        config = filterd_config(port, upstream_addr, workdir)
        argv = [*filterd_command(), "run", "--config", str(config)]
    elif name == "dnsmasq":
        argv = dnsmasq_argv(port, upstream_addr, workdir)
    else:
        raise ValueError(f"unknown server {name!r}")
    pinned = pinning.prefix(pinning.server_cpu) + argv
    with running(name, pinned, port, workdir, probe_name) as server:
        yield server
