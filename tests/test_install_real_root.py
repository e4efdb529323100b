"""deploy/install.sh's real-root path (no --root), as `sudo deploy/install.sh` runs on a box.

It runs as root in private mount and network namespaces: /etc, /opt and /var/lib are overlays
whose changes land in the test's scratch directory (the machine's own files are never touched
and vanish with the namespace), and the network is a private one whose LAN interface (a veth
pair) leads nowhere.

Real here: useradd and usermod (the users filterd and filterd-web are created, in the overlaid
/etc), runuser, the ownership and modes the installer sets, and then both services' command lines
(from the installed units) run as those users with the units' umask and capabilities (setpriv),
so what one user writes the other must read is tried for real: the dashboard reads filterd.db
and its own CA and writes the rules file, filterd reads the rules file the dashboard wrote, also
after a restart, and the nightly backup as filterd-web reads them all.

Stubs, only because these cannot run here: `apt-get` (no package mirror; the packages are
installed on this machine already) and `systemctl` (this machine has no systemd as PID 1). They
record their calls, so the test proves the script calls them with the right arguments, in the
right order (packages, users, stop, units written, daemon-reload, enable --now), and that a
failing one stops the install with a message naming the step, before anything is enabled.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.support import netns
from tests.support.filterd_process import free_port, stop_process, wait_for
from tests.support.netns import PortIntoNamespace
from tests.support.web_client import Device
from tests.test_install import INSTALL

pytestmark = pytest.mark.skipif(
    netns.available() is not None or not Path("/usr/bin/setpriv").exists(),
    reason=str(netns.available() or "needs setpriv (util-linux)"),
)

VENV = str(Path(sys.executable).parents[1])
PASSWORD = "three words remembered well"
UNITS = "filterd.service filterd-dashboard.service"
STRICT_ONLY = "bet365.com"  # gambling: blocked for a young child, not by the household rules

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


class Box:
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
        with log.open("ab") as out:
            setpriv = [
                "setpriv", f"--reuid={uid}", f"--regid={gid}", "--init-groups",
                f"--inh-caps={caps_arg}", f"--ambient-caps={caps_arg}", "--",
                "env", f"HOME={home}", f"USER={user}", f"LOGNAME={user}",  # as systemd sets
                "sh", "-c", f'umask {umask} && cd {directory} && exec "$@"', "sh", *command,
            ]  # fmt: skip
            proc = subprocess.Popen(
                self.inside(*setpriv),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
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


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Box]:
    made = Box(tmp_path)
    try:
        yield made
    finally:
        made.close()


def install(
    box: Box, fail: str = "", venv: str = VENV
) -> tuple[subprocess.CompletedProcess, list[str]]:
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


def owner_and_mode(box: Box, path: str) -> str:
    return box.run("stat", "-c", "%U:%G %a", path).stdout.strip()


def test_a_real_install_calls_each_tool_in_order_and_its_users_share_what_they_must(
    box: Box,
) -> None:
    done, calls = install(box)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "left out" not in done.stdout
    assert calls == [
        "apt-get update -qq",
        "  DEBIAN_FRONTEND=",
        "apt-get install -y -qq python3 python3-venv ieee-data iproute2 fonts-dejavu-core",
        "  DEBIAN_FRONTEND=noninteractive",
        "useradd --system --home /var/lib/filterd --shell /usr/sbin/nologin filterd",
        "useradd --system --home /var/lib/filterd-web --shell /usr/sbin/nologin filterd-web",
        "usermod -a -G filterd filterd-web",
        f"systemctl stop {UNITS}",  # an upgrade swaps the code while they are stopped
        "systemctl daemon-reload",
        "  units: filterd-backup.service filterd-backup.timer filterd-dashboard.service"
        " filterd.service ",
        f"systemctl enable --now {UNITS} filterd-backup.timer",
    ], calls
    assert "https://192.168.77.2" in done.stdout  # the LAN address it found
    code = re.search(r"take the box over:\s+(\S+)", done.stdout)
    assert code, done.stdout

    # The users, and who owns what.
    assert box.run("id", "-nG", "filterd-web").stdout.split() == ["filterd-web", "filterd"]
    assert box.run("id", "-nG", "filterd").stdout.split() == ["filterd"]
    assert owner_and_mode(box, "/etc/filterd") == "root:filterd 750"
    assert owner_and_mode(box, "/etc/filterd/filterd.yaml") == "root:filterd 640"
    assert owner_and_mode(box, "/var/lib/filterd").startswith("filterd:filterd ")
    assert owner_and_mode(box, "/var/lib/filterd-web") == "filterd-web:filterd-web 700"
    assert owner_and_mode(box, "/var/lib/filterd-web/tls/ca.key").startswith("filterd-web:")

    # The installed settings, only with the upstream on this namespace's loopback (tests never
    # reach the internet; nothing listens there, so names not blocked get SERVFAIL).
    config = box.root / "etc/filterd/filterd.yaml"
    settings = yaml.safe_load(config.read_text())
    settings["upstreams"] = ["127.0.0.1:9"]
    config.write_text(yaml.safe_dump(settings))

    logs = box.scratch / "logs"
    logs.mkdir()

    def start_filterd() -> subprocess.Popen:
        (command,) = box.unit_commands("filterd.service")[1:]
        return box.as_user("filterd", "filterd.service", command, logs / "filterd.log")

    def answer(name: str) -> str:
        """The answer's status and addresses ("NOERROR 192.168.77.2": the box, whose port 80
        serves the block page), "" when none came."""
        asked = ("dig", "@192.168.77.2", name, "+time=1", "+tries=1")
        found = box.on_phone(*asked, check=False).stdout
        status = re.search(r"status: (\w+)", found)
        addresses = re.findall(r"^\S+\s+\d+\s+IN\s+A\s+(\S+)$", found, re.M)
        return " ".join([status[1], *addresses]) if status else ""

    for unit in ("filterd.service", "filterd-dashboard.service"):  # ExecStartPre: check-config
        box.run(*box.unit_commands(unit)[0])
    filterd = start_filterd()
    (dashboard_command,) = box.unit_commands("filterd-dashboard.service")[1:]
    box.as_user(
        "filterd-web", "filterd-dashboard.service", dashboard_command, logs / "dashboard.log"
    )
    assert wait_for(lambda: answer(STRICT_ONLY) == "NOERROR 192.168.77.2", 20), (
        answer(STRICT_ONLY) + (logs / "filterd.log").read_text()
    )

    relay = PortIntoNamespace(box.net, free_port(), 443)
    try:
        carer = Device(f"https://127.0.0.1:{relay.port}")
        assert wait_for(lambda: _answers(carer), 20), (logs / "dashboard.log").read_text()
        created = carer.post(
            "/setup",
            {"code": code[1], "name": "Jo", "password": PASSWORD, "confirm": PASSWORD},
        )
        assert created.status == 302, created.text

        def set_up(child: str, unknown: str) -> None:
            page = carer.get("/setup/home").text
            version = re.search(r'name="version" value="([^"]*)"', page)[1]
            form = {"csrf": carer.csrf("/setup/home"), "version": version}
            form |= {"timezone": "Europe/London", "name": child, "age_band": "9_12"}
            saved = carer.post("/setup/home", form | {"unknown_devices": unknown})
            assert saved.status == 302, saved.text[-3000:]

        # The dashboard (filterd-web) rewrites the rules file, and records the change in
        # filterd.db's event log; filterd reads the new file and applies it.
        set_up("Sam", "household")
        assert wait_for(lambda: answer(STRICT_ONLY) == "SERVFAIL", 10), (
            logs / "filterd.log"
        ).read_text()
        assert owner_and_mode(box, "/var/lib/filterd/rules.yaml").startswith("filterd-web:filterd ")
        # The dashboard reads filterd.db (devices, health) as its own user.
        for path in ("/devices/", "/health"):
            shown = carer.get(path)
            assert shown.status == 200, (path, shown.text[-2000:])

        # filterd stops; meanwhile the dashboard writes filterd.db first (its -wal and -shm
        # files are the dashboard's now) and the rules again; filterd starts on both.
        assert stop_process(filterd) == 0
        set_up("Alex", "strict")
    finally:
        relay.close()
    logged_before = len((logs / "filterd.log").read_text(errors="replace"))

    def restarted() -> str:
        return (logs / "filterd.log").read_text(errors="replace")[logged_before:]

    start_filterd()
    assert wait_for(lambda: "rules loaded: 2 children" in restarted(), 20), restarted()
    assert wait_for(lambda: "filterd answering on" in restarted(), 20), restarted()
    assert wait_for(lambda: answer(STRICT_ONLY) == "NOERROR 192.168.77.2", 10), restarted()
    troubles = [line for line in restarted().splitlines() if " ERROR " in line or "WARN" in line]
    assert not troubles, troubles

    # The nightly backup, as filterd-web, reads every file it must.
    (nightly,) = box.unit_commands("filterd-backup.service")
    backup = box.run(
        "setpriv", "--reuid=filterd-web", "--regid=filterd-web", "--init-groups", "--",
        "sh", "-c", 'umask 0077 && cd /var/lib/filterd-web && exec "$@"', "sh", *nightly,
        check=False,
    )  # fmt: skip
    assert backup.returncode == 0, backup.stdout + backup.stderr


def _answers(device: Device) -> bool:
    try:
        return device.get("/").status in (200, 302)
    except OSError:
        time.sleep(0.2)
        return False


@pytest.mark.parametrize(
    "fail",
    [
        "apt-get install -y -qq python3 python3-venv ieee-data iproute2 fonts-dejavu-core",
        f"systemctl enable --now {UNITS} filterd-backup.timer",
    ],
)
def test_a_failing_step_stops_the_install_and_says_which(box: Box, fail: str) -> None:
    done, calls = install(box, fail=fail)
    assert done.returncode != 0
    assert "install.sh: stopped, this step failed (exit " in done.stderr
    assert fail.split()[0] in done.stderr.rpartition("stopped")[2], done.stderr
    assert calls[-1 if fail.startswith("systemctl") else -2] == fail
    assert "filterd is installed" not in done.stdout
    if fail.startswith("apt-get"):  # nothing after it ran: no users, no units
        assert not any(c.startswith(("useradd", "systemctl")) for c in calls)
        assert not (box.scratch / "upper/etc/systemd/system/filterd.service").exists()


def test_when_the_dashboards_user_cannot_run_filterd_the_install_says_so(box: Box) -> None:
    """The set-up code and the certificate are made as filterd-web: when that user cannot run
    the installed command, the install ends in failure, naming what failed, instead of
    saying the dashboard is already set up."""
    private = box.scratch / "root-only-venv"
    (private / "bin").mkdir(parents=True)
    command = private / "bin/filterd"
    command.write_text(f'#!/bin/sh\nexec {VENV}/bin/filterd "$@"\n')
    command.chmod(0o700)  # root alone may run it
    done, _ = install(box, venv=str(private))
    assert done.returncode == 1
    assert "already set up" not in done.stdout
    assert "The set-up code could not be made" in done.stdout
    said = done.stderr
    assert "install.sh: installed, but the dashboard's user could not do this:" in said
    assert "the set-up code:" in said and "Permission denied" in said
