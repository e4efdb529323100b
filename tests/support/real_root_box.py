"""A box installed for real (deploy/install.sh with no --root, as `sudo deploy/install.sh`
runs it), for tests that run as root: a root shell in private mount and network namespaces
whose /etc, /opt and /var/lib are overlays (every change lands in the test's scratch directory
and vanishes with the namespace), and a phone on its LAN (the other end of a veth pair, in a
network of its own). `apt-get` and `systemctl` are stubs that record their calls (no package
mirror and no systemd as PID 1 here); useradd and usermod are recorded, then run for real.
The `real_root_box` fixture in tests/conftest.py makes one per test."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import netns
from tests.support.filterd_process import start_logged, stop_process, wait_for
from tests.support.installer import INSTALL

# Tests that need it are skipped where namespaces (root) or setpriv are missing.
needs_real_root = pytest.mark.skipif(
    netns.available() is not None or not Path("/usr/bin/setpriv").exists(),
    reason=str(netns.available() or "needs setpriv (util-linux)"),
)

VENV = str(Path(sys.executable).parents[1])  # this test run's Python, which --link-venv links

RECORD = """#!/bin/sh
echo "$(basename "$0") $*" >> {log}
"""
STUBS = {
    # apt-get: the frontend it is given matters (no question may stop an unattended install).
    "apt-get": RECORD
    + 'echo "  DEBIAN_FRONTEND=$DEBIAN_FRONTEND" >> {log}\n'
    + '[ "$FAIL" = "apt-get $*" ] && {{ echo "E: Unable to locate package" >&2; exit 100; }}\n'
    + "exit 0\n",
    # systemctl: which units exist when systemd is told to reload them.
    "systemctl": RECORD
    + '[ "$1" = daemon-reload ] && echo "  units: $(ls /etc/systemd/system | grep filterd'
    + ' | tr "\\n" " ")" >> {log}\n'
    + '[ "$FAIL" = "systemctl $*" ] && {{ echo "Failed to enable unit" >&2; exit 1; }}\n'
    + "exit 0\n",
    # useradd and usermod: recorded, then the real ones (into the overlaid /etc).
    "useradd": RECORD + 'exec /usr/sbin/useradd "$@"\n',
    "usermod": RECORD + 'exec /usr/sbin/usermod "$@"\n',
}


class RealRootBox:
    """A root shell in private mount and network namespaces (a sleeping holder process), and
    a phone on its LAN (a network namespace of its own)."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.holder = subprocess.Popen(
            ["unshare", "--mount", "--net", "--propagation", "private", "--", "sleep", "600"]
        )
        own = os.readlink("/proc/self/ns/net")
        assert wait_for(lambda: self._net() not in (None, own), 5), "unshare did not start"
        self.net = f"/proc/{self.holder.pid}/ns/net"
        self.processes: list[subprocess.Popen] = []
        # /root too, when this test's Python lives there: see open_the_way_to_python().
        for directory in ("/etc", "/opt", "/var/lib", *(("/root",) if _under_root() else ())):
            upper, work = scratch / "upper" / directory[1:], scratch / "work" / directory[1:]
            upper.mkdir(parents=True)
            work.mkdir(parents=True)
            options = f"lowerdir={directory},upperdir={upper},workdir={work}"
            self.run("mount", "-t", "overlay", "overlay", "-o", options, directory)
        # A phone on the box's LAN: the other end of the veth pair, in a network of its own.
        self.phone = subprocess.Popen(["unshare", "--net", "--", "sleep", "600"])
        assert wait_for(lambda: _net_of(self.phone.pid) not in (None, own), 5)
        for command in (
            "ip link set lo up",
            f"ip link add eth0 type veth peer name eth0 netns {self.phone.pid}",
            "ip addr add 192.168.77.2/24 dev eth0",
            "ip link set eth0 up",
            "ip route add default via 192.168.77.1",
        ):
            self.run(*command.split())
        for command in ("ip addr add 192.168.77.20/24 dev eth0", "ip link set eth0 up"):
            self.on_phone(*command.split())

    @property
    def root(self) -> Path:
        """This namespace's / as seen from outside it."""
        return Path(f"/proc/{self.holder.pid}/root")

    def unit_commands(self, unit: str) -> list[list[str]]:
        """ExecStartPre and ExecStart of an installed unit, exactly as written."""
        text = (self.root / "etc/systemd/system" / unit).read_text()
        return [shlex.split(line) for line in re.findall(r"^ExecStart(?:Pre)?=(.*)$", text, re.M)]

    def open_the_way_to_python(self) -> None:
        """The services' users run this test's Python (install.sh --link-venv). When it lives
        under /root (0700 on this machine), its directories are opened for them in the
        overlaid /root, only inside the namespace."""
        for path in (Path(sys.executable).resolve(), Path(VENV).resolve()):
            for directory in path.parents:
                if directory.is_relative_to("/root"):
                    self.run("chmod", "o+x", str(directory))

    def _net(self) -> str | None:
        return _net_of(self.holder.pid)

    def on_phone(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            ["nsenter", "-t", str(self.phone.pid), "-n", "--", *command],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 0 or not check, f"{command}: {done.stdout}{done.stderr}"
        return done

    def inside(self, *command: str) -> list[str]:
        return ["nsenter", "-t", str(self.holder.pid), "-m", "-n", "--", *command]

    def run(self, *command: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
        kwargs.setdefault("timeout", 60)
        done = subprocess.run(self.inside(*command), capture_output=True, text=True, **kwargs)
        if check:
            assert done.returncode == 0 or not check, f"{command}: {done.stdout}{done.stderr}"
        return done

    def as_user(self, user: str, unit: str, command: list[str], log: Path) -> subprocess.Popen:
        """A unit's command as its user, with its umask, groups and ambient capabilities."""
        text = (self.root / "etc/systemd/system" / unit).read_text()
        caps = re.search(r"^AmbientCapabilities=(.*)$", text, re.M)
        caps_arg = ",".join("+" + c.lower().removeprefix("cap_") for c in caps[1].split())
        umask = re.search(r"^UMask=(\d+)$", text, re.M)
        umask = umask[1] if umask else "0022"  # systemd's default
        directory = re.search(r"^WorkingDirectory=(.*)$", text, re.M)[1]
        uid = self.run("id", "-u", user).stdout.strip()
        gid = self.run("id", "-g", user).stdout.strip()
        home = self.run("getent", "passwd", user).stdout.split(":")[5]
        setpriv = [
            "setpriv", f"--reuid={uid}", f"--regid={gid}", "--init-groups",
            f"--inh-caps={caps_arg}", f"--ambient-caps={caps_arg}", "--",
            "env", f"HOME={home}", f"USER={user}", f"LOGNAME={user}",  # as systemd sets
            "sh", "-c", f'umask {umask} && cd {directory} && exec "$@"', "sh", *command,
        ]  # fmt: skip
        proc = start_logged(self.inside(*setpriv), log)
        self.processes.append(proc)
        return proc

    def close(self) -> None:
        for proc in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):  # then it was killed
                stop_process(proc)
        for holder in (self.holder, getattr(self, "phone", None)):
            if holder is not None:
                holder.kill()
                holder.wait()


def install_as_root(
    box: RealRootBox, fail: str = "", venv: str = VENV
) -> tuple[subprocess.CompletedProcess, list[str]]:
    """install.sh as root inside the box, linking `venv`; what it printed, and the stubbed
    tools' calls in order. `fail` ("apt-get install ...") makes that one call fail."""
    stubs = box.scratch / "stubs"
    stubs.mkdir(exist_ok=True)
    calls = box.scratch / "calls.log"
    calls.write_text("")
    for name, text in STUBS.items():
        (stubs / name).write_text(text.format(log=calls))
        (stubs / name).chmod(0o755)
    box.open_the_way_to_python()
    path = f"{stubs}:{os.environ['PATH']}"
    done = box.run(
        "env", "-u", "DEBIAN_FRONTEND", f"PATH={path}", f"FAIL={fail}",
        "bash", str(INSTALL), "--link-venv", venv, check=False, timeout=180,
    )  # fmt: skip
    return done, calls.read_text().splitlines()


def _net_of(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return None


def _under_root() -> bool:
    paths = (Path(sys.executable).resolve(), Path(VENV).resolve())
    return any(path.is_relative_to("/root") for path in paths)
