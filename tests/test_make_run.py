"""`make run` is the first run a carer meets: empty rules, the dashboard's address and set-up
code printed, and nothing left running when the terminal closes (SIGHUP to the process group)
or Ctrl-C is pressed, so the next `make run` starts again on the same ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import yaml

from tests.support.dashboard_process import DashboardProcess
from tests.support.dns_client import udp_exchange
from tests.support.filterd_process import READY_PROBE, free_port, wait_for
from tests.support.upstream_process import PROJECT_ROOT, ScriptedUpstream


def _children(pid: int) -> set[int]:
    """Every live descendant of pid, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rpartition(")")[2].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def _port_free(port: int, kind: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as sock:
        # As the servers bind: a closed connection's TIME_WAIT does not count, a listener does.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _write_config(tmp_path: Path, upstream: str) -> dict[str, int]:
    ports = {"dns": free_port(), "https": free_port(), "http": free_port(), "metrics": free_port()}
    config = {
        "listen": [f"127.0.0.1:{ports['dns']}"],
        "upstreams": [upstream],
        "database": str(tmp_path / "filterd.db"),
        "rules": str(tmp_path / "var" / "rules.yaml"),
        "metrics": f"127.0.0.1:{ports['metrics']}",
        "lists_update": {"directory": str(tmp_path / "lists")},
        "discovery": {"scan_on_start": False, "neighbour_table": False},
        "dashboard": {
            "listen": f"127.0.0.1:{ports['https']}",
            "http_listen": f"127.0.0.1:{ports['http']}",
            "database": str(tmp_path / "dashboard.db"),
        },
    }
    (tmp_path / "filterd.yaml").write_text(yaml.safe_dump(config))
    return ports


def _start_make_run(tmp_path: Path) -> tuple[subprocess.Popen[str], Path]:
    """`make run`, in a process group of its own as a terminal's foreground job is."""
    output = tmp_path / f"make-run-{time.monotonic_ns()}.log"
    with output.open("w") as log:
        proc = subprocess.Popen(
            ["make", "-s", "run", f"CONFIG={tmp_path / 'filterd.yaml'}"],
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    return proc, output


def _wait_serving(proc: subprocess.Popen[str], output: Path, ports: dict[str, int]) -> set[int]:
    dashboard = DashboardProcess(Path("unused"), f"127.0.0.1:{ports['https']}", Path("."))
    assert wait_for(
        lambda: udp_exchange(ports["dns"], READY_PROBE, timeout=0.2) is not None, timeout=30
    ), output.read_text()
    assert wait_for(dashboard.answers, timeout=30), output.read_text()
    assert proc.poll() is None
    return _children(proc.pid)


def _assert_all_stopped(pids: set[int], ports: dict[str, int], output: Path) -> None:
    if not wait_for(lambda: not any(_alive(pid) for pid in pids), timeout=20):
        left = [pid for pid in pids if _alive(pid)]
        for pid in left:  # no orphan outlives the test that found it
            os.kill(pid, signal.SIGKILL)
        raise AssertionError(f"still running: {left}\n{output.read_text()}")
    assert _port_free(ports["dns"], socket.SOCK_DGRAM)
    for name in ("dns", "https", "http"):
        assert _port_free(ports[name], socket.SOCK_STREAM), name


def test_closed_terminal_stops_everything_and_the_next_run_starts(tmp_path: Path) -> None:
    with ScriptedUpstream() as upstream:
        ports = _write_config(tmp_path, upstream.addr)
        proc, output = _start_make_run(tmp_path)
        try:
            started = _wait_serving(proc, output, ports)
            printed = output.read_text()
            assert f"dashboard at:   https://127.0.0.1:{ports['https']}/" in printed
            code = printed.split("set-up code:")[1].split()[0]
            assert len(code) >= 6, printed
            # The first run has no children: the starter rules, not the demo home.
            rules = yaml.safe_load((tmp_path / "var" / "rules.yaml").read_text())
            assert rules["children"] == {} and rules["devices"] == []
            # Both programs and the supervisor were running.
            assert len(started) >= 3, started
            os.killpg(proc.pid, signal.SIGHUP)  # the terminal closes
            proc.wait(timeout=20)
            _assert_all_stopped(started | {proc.pid}, ports, output)

            # The next `make run` starts on the same ports; Ctrl-C stops it just as cleanly.
            proc, output = _start_make_run(tmp_path)
            started = _wait_serving(proc, output, ports)
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(timeout=20)
            _assert_all_stopped(started | {proc.pid}, ports, output)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)


def test_killing_the_supervisor_outright_still_leaves_nothing_running(tmp_path: Path) -> None:
    """SIGKILL gives `filterd up` no chance to clean up: the kernel stops its children."""
    with ScriptedUpstream() as upstream:
        ports = _write_config(tmp_path, upstream.addr)
        output = tmp_path / "up.log"
        with output.open("w") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "filterd", "up", "--config", str(tmp_path / "filterd.yaml")],
                cwd=PROJECT_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            started = _wait_serving(proc, output, ports)
            assert len(started) >= 2, started
            proc.kill()
            proc.wait(timeout=10)
            _assert_all_stopped(started, ports, output)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
