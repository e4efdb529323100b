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
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from dnslib import QTYPE, DNSRecord

from bench.machine import Pinning
from tests.support.filterd_process import free_port

LOOPBACK = "127.0.0.1"
"""The only address the benchmark ever sends to or listens on."""

READY_TIMEOUT = 10.0
READY_POLL = 0.1
"""Seconds between readiness probes (a benchmark timing the start passes a shorter one)."""
STOP_TIMEOUT = 5.0
PR_SET_PDEATHSIG = 1


class ServerError(RuntimeError):
    """A server could not be started or died during the benchmark."""


def dns_answers(port: int, name: str, timeout: float = 0.5) -> bool:
    """True when a UDP A query for ``name`` to 127.0.0.1:port gets a NOERROR reply."""
    query = DNSRecord.question(name, "A")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect((LOOPBACK, port))  # connected: "port unreachable" fails at once
            sock.send(query.pack())
            data = sock.recv(4096)
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
    metrics_port: int | None = None  # filterd's Prometheus endpoint

    def metric(self, metric: str) -> float | None:
        """One unlabelled sample from the server's /metrics, or None when it has none."""
        if self.metrics_port is None:
            return None
        url = f"http://{LOOPBACK}:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            for line in response.read().decode().splitlines():
                if line.startswith(metric + " "):
                    return float(line.split()[1])
        return None

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
        """Peak resident set (VmHWM) of the server and any processes it forked, in KiB.

        Summed over processes, so shared pages count twice and peaks that did not coincide
        are added: an upper bound, exact for a single process."""
        return sum(self.peak_rss_by_process().values())

    def memory_kib(self, keys: tuple[str, ...] = ("VmRSS", "RssAnon", "RssFile")) -> dict[str, int]:
        """Current 'kB' fields of /proc/PID/status (VmRSS, RssAnon, RssFile, RssShmem, VmHWM),
        each summed over the server's processes."""
        pids = _process_tree(self.pid)
        return {key: sum(_status_kib(pid, key) for pid in pids) for key in keys}

    def peak_rss_by_process(self) -> dict[str, int]:
        """VmHWM in KiB per process of the server, keyed 'PID name'."""
        return {
            f"{pid} {_status_text(pid, 'Name')}": _status_kib(pid, "VmHWM")
            for pid in _process_tree(self.pid)
        }

    def sched_seconds(self) -> dict[str, tuple[float, float]]:
        """Per process of the server ('PID name'): seconds its threads have spent running
        and runnable-but-waiting for a CPU, from /proc/PID/task/*/schedstat.

        Both are measured in nanoseconds by the scheduler, unlike utime/stime (tick samples,
        rescaled after the fact) or /proc/stat (ticks, blind to short bursts at low load).
        Waiting time on a core of its own means someone else was using the core."""
        found: dict[str, tuple[float, float]] = {}
        for pid in _process_tree(self.pid):
            ran = waited = 0
            with contextlib.suppress(OSError):
                for task in Path(f"/proc/{pid}/task").iterdir():
                    with contextlib.suppress(OSError, IndexError, ValueError):
                        fields = (task / "schedstat").read_text().split()
                        ran += int(fields[0])
                        waited += int(fields[1])
            found[f"{pid} {_status_text(pid, 'Name')}"] = (ran / 1e9, waited / 1e9)
        return found


def _status_text(pid: int, key: str) -> str:
    """A field from /proc/PID/status, '' if the process is gone."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return line.split(":", 1)[1].strip()
    return ""


def _status_kib(pid: int, key: str) -> int:
    """A 'kB' field from /proc/PID/status, 0 if absent."""
    value = _status_text(pid, key).split()
    return int(value[0]) if value else 0


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
    name: str,
    argv: list[str],
    port: int,
    workdir: Path,
    probe_name: str,
    poll_interval: float = READY_POLL,
    env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """Start ``argv``, wait until it answers DNS on ``port``, and always stop it afterwards.

    env: the whole environment for the server (None: ours)."""
    log_path = workdir / f"{name}.log"
    with open(log_path, "wb") as log:
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=workdir,
                env=env,
                start_new_session=True,  # Ctrl-C reaches the harness, which stops us in order
                preexec_fn=_die_with_parent,
            )
        except OSError as exc:
            raise ServerError(f"cannot start {name}: {exc}") from exc
    server = Server(name, port, process, log_path)
    try:
        _wait_ready(server, probe_name, poll_interval)
        yield server
    finally:
        stop(process)


def _wait_ready(server: Server, probe_name: str, poll_interval: float = READY_POLL) -> None:
    """Poll with a real query: a listening socket is not the same as a working server."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        server.check_alive()
        if dns_answers(server.port, probe_name):
            return
        time.sleep(poll_interval)
    raise ServerError(
        f"{server.name} did not answer on {LOOPBACK}:{server.port} within "
        f"{READY_TIMEOUT:.0f} s:\n{server.log_tail()}"
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server like an operator would (SIGTERM to it, so it shuts its helpers down
    itself), then make sure nothing of its process group (only ever what it forked) is
    left: SIGTERM, and SIGKILL for whatever still lingers."""
    group = process.pid  # start_new_session: the group id is the server's pid
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    if _wait_group(process, group, STOP_TIMEOUT):
        return
    _signal_group(group, signal.SIGTERM)
    if not _wait_group(process, group, STOP_TIMEOUT):
        _signal_group(group, signal.SIGKILL)
        _wait_group(process, group, STOP_TIMEOUT)


def _signal_group(group: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, sig)


def _wait_group(process: subprocess.Popen[bytes], group: int, timeout: float) -> bool:
    """True once the server is reaped and no other live member of its group remains
    (a forked helper may still be writing into the temporary directory)."""
    deadline = time.monotonic() + timeout
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return False
    while time.monotonic() < deadline:
        if not _live_members(group):
            return True
        time.sleep(0.05)
    return False


def _live_members(group: int) -> list[int]:
    """PIDs in process group ``group`` that are not zombies."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) == group and fields[0] != "Z":
                    members.append(int(entry.name))
    return members


def filterd_command() -> list[str]:
    """The console script if installed in this venv, else ``python -m filterd``."""
    script = Path(sys.executable).parent / "filterd"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "filterd"]


def filterd_in_tree(tree: Path) -> tuple[list[str], dict[str, str]]:
    """``python -m filterd`` of another checkout: its own .venv's Python when it has one
    (its own dependencies), with the checkout first on the path either way."""
    python = tree / ".venv" / "bin" / "python"
    executable = str(python) if python.exists() else sys.executable
    env = dict(os.environ, PYTHONPATH=str(tree.resolve()))
    return [executable, "-m", "filterd"], env


def filterd_config(
    port: int, upstream_addr: str, workdir: Path, metrics_port: int, extra: str = ""
) -> Path:
    """Write filterd's YAML config: big cache, no rate limit, loopback only; ``extra`` is
    appended as more top-level YAML lines (e.g. blocklist settings)."""
    text = (
        f'listen: ["{LOOPBACK}:{port}"]\n'
        f'upstreams: ["{upstream_addr}"]\n'
        'allow_clients: ["127.0.0.0/8"]\n'
        f'database: "{workdir / "filterd.db"}"\n'
        f'metrics: "{LOOPBACK}:{metrics_port}"\n'
        f"cache: {{max_entries: {CACHE_ENTRIES}, max_megabytes: 256}}\n"
        "rate_limit: {queries_per_second: 0}\n"
        f"{extra}"
    )
    path = workdir / "filterd.yaml"
    path.write_text(text, encoding="utf-8")
    return path


CACHE_ENTRIES = 200_000
"""Cache capacity given to both servers (filterd max_entries, dnsmasq --cache-size).
dnsmasq accepts up to 5,000,000 but preallocates every slot (RSS ~550 MB there, ~27 MB at
200,000, ~7 MB at 20,000), so its RSS depends on this choice: equal capacity is the fair
comparison, and 200,000 holds the 10,000 names many times over."""


def dnsmasq_argv(
    port: int, upstream_addr: str, workdir: Path, extra: Sequence[str] = ()
) -> list[str]:
    """dnsmasq as a plain caching forwarder that reads and writes no system files;
    ``extra`` options are appended (e.g. ``--addn-hosts=FILE``)."""
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
    argv.extend(extra)
    return argv


@contextlib.contextmanager
def start(
    name: str,
    upstream_addr: str,
    workdir: Path,
    pinning: Pinning,
    probe_name: str,
    *,
    filterd_extra: str = "",
    dnsmasq_extra: Sequence[str] = (),
    poll_interval: float = READY_POLL,
    tree: Path | None = None,
) -> Iterator[Server]:
    """Start server ``name`` ('filterd' or 'dnsmasq') pinned to the server core.

    filterd_extra: more YAML for filterd's config; dnsmasq_extra: more dnsmasq options;
    poll_interval: seconds between readiness probes; tree: another checkout whose filterd
    to run (its own .venv when it has one), for a before/after comparison."""
    port = free_port()
    metrics_port = None
    env = None
    if name == "filterd":
        metrics_port = free_port()
        config = filterd_config(port, upstream_addr, workdir, metrics_port, filterd_extra)
        command = filterd_command()
        if tree is not None:
            command, env = filterd_in_tree(tree)
        argv = [*command, "run", "--config", str(config)]
    elif name == "dnsmasq":
        argv = dnsmasq_argv(port, upstream_addr, workdir, dnsmasq_extra)
    else:
        raise ValueError(f"unknown server {name!r}")
    pinned = pinning.prefix(pinning.server_cpu) + argv
    with running(name, pinned, port, workdir, probe_name, poll_interval, env) as server:
        server.metrics_port = metrics_port
        yield server
