"""`filterd up`: the DNS daemon and the dashboard together, as `make run` starts them.

The first run a person meets on a laptop. It starts both programs, says where the dashboard is
and what the set-up code is, and stops everything it started on Ctrl-C, SIGTERM or a closed
terminal (SIGHUP). The children run in their own process group, so a terminal's SIGHUP reaches
only this process (filterd itself takes SIGHUP as "reload" and would stay running, holding
port 53, if it got it); and each child is told by the kernel to stop if this process dies
without cleaning up (PR_SET_PDEATHSIG), so nothing is ever left orphaned.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from filterd.config import load_config_or_report

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
GRACE_SECONDS = 10.0
PR_SET_PDEATHSIG = 1


def _stop_with_parent() -> None:
    """In the child before exec: SIGTERM it when the parent dies (Linux)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _start(command: str, config_path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "filterd", command, "--config", str(config_path)],
        process_group=0,  # out of the terminal's group: only we decide when it stops
        preexec_fn=_stop_with_parent,
    )


def _address(listen: str) -> str:
    host, _, port = listen.rpartition(":")
    return f"https://{host}/" if port == "443" else f"https://{host}:{port}/"


def _bind_fails(listen: str, kind: socket.SocketKind) -> bool:
    """Whether something already holds this address (bound as the servers bind: a closed
    connection's TIME_WAIT does not count, a listener does)."""
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, kind) as probe:
            if kind == socket.SOCK_STREAM:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, int(port)))
    except OSError as err:
        return err.errno == errno.EADDRINUSE
    except ValueError:
        return False  # not an address we can try: the program itself will say why
    return False


def in_use(dns: list[str], web: list[str]) -> str | None:
    """The first address (DNS on UDP and TCP, the dashboard's on TCP) another program holds."""
    wanted = [(a, k) for a in dns for k in (socket.SOCK_DGRAM, socket.SOCK_STREAM)]
    wanted += [(a, socket.SOCK_STREAM) for a in web]
    return next((address for address, kind in wanted if _bind_fails(address, kind)), None)


def first_rules(rules_path: Path, template: Path) -> None:
    """A first run starts from the template (no children yet); an existing file is kept."""
    if not rules_path.exists():
        rules_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, rules_path)


def up(
    config_path: Path,
    dashboard_listen: str,
    set_up_code: Callable[[], str | None],
    rules_template: Path | None = None,
    http_listen: str | None = None,
) -> int:
    """Run both programs until one stops or we are told to stop; then stop the other.

    The dashboard's address and its set-up code come from the front door (filterd.cli), the
    one module that reads the dashboard's settings."""
    config = load_config_or_report(config_path)
    if config is None:
        return 1
    busy = in_use([str(a) for a in config.listen], [dashboard_listen, *filter(None, [http_listen])])
    if busy is not None:  # said now, before an address and code that would not work
        print(
            f"filterd up: another filterd (perhaps another make run) is using {busy}: stop it"
            " first (Ctrl-C in its terminal), then start again.",
            file=sys.stderr,
        )
        return 1
    if rules_template is not None and config.rules is not None:
        first_rules(config.rules, rules_template)
    stopping: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        stopping.append(signum)

    for signum in STOP_SIGNALS:
        signal.signal(signum, stop)
    code = set_up_code()
    children = [_start("run", config_path), _start("dashboard", config_path)]
    print(f"dashboard at:   {_address(dashboard_listen)}", flush=True)
    if code:
        print(f"set-up code:    {code}  (the first visit asks for it)", flush=True)
    print("Ctrl-C (or closing this terminal) stops filterd and the dashboard.", flush=True)
    while not stopping and all(child.poll() is None for child in children):
        time.sleep(0.2)
    return _stop_all(children, bool(stopping))


def _stop_all(children: list[subprocess.Popen[bytes]], asked: bool) -> int:
    """SIGTERM every child still running, wait, then SIGKILL what did not stop."""
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    if asked:
        with contextlib.suppress(OSError):  # a closed terminal cannot be written to
            print("filterd and the dashboard have stopped.", flush=True)
        return 0
    return 1  # one of them stopped on its own: say so through the exit status
