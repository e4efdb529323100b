"""deploy/install.sh's real-root path (no --root), as `sudo deploy/install.sh` runs on a box.

It runs as root in private mount and network namespaces (tests/support/real_root_box.py):
/etc, /opt and /var/lib are overlays whose changes land in the test's scratch directory (the
machine's own files are never touched and vanish with the namespace), and the network is a
private one whose LAN interface (a veth pair) leads nowhere.

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

import re
import subprocess
import time

import pytest
import yaml

from tests.support.filterd_process import free_port, stop_process, wait_for
from tests.support.netns import PortIntoNamespace
from tests.support.real_root_box import VENV, RealRootBox, install_as_root, needs_real_root
from tests.support.web_client import Device

pytestmark = needs_real_root

PASSWORD = "three words remembered well"
UNITS = "filterd.service filterd-dashboard.service"
STRICT_ONLY = "bet365.com"  # gambling: blocked for a young child, not by the household rules


def owner_and_mode(box: RealRootBox, path: str) -> str:
    return box.run("stat", "-c", "%U:%G %a", path).stdout.strip()


def test_a_real_install_calls_each_tool_in_order_and_its_users_share_what_they_must(
    real_root_box: RealRootBox,
) -> None:
    done, calls = install_as_root(real_root_box)
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
    assert real_root_box.run("id", "-nG", "filterd-web").stdout.split() == [
        "filterd-web",
        "filterd",
    ]
    assert real_root_box.run("id", "-nG", "filterd").stdout.split() == ["filterd"]
    assert owner_and_mode(real_root_box, "/etc/filterd") == "root:filterd 750"
    assert owner_and_mode(real_root_box, "/etc/filterd/filterd.yaml") == "root:filterd 640"
    assert owner_and_mode(real_root_box, "/var/lib/filterd").startswith("filterd:filterd ")
    assert owner_and_mode(real_root_box, "/var/lib/filterd-web") == "filterd-web:filterd-web 700"
    assert owner_and_mode(real_root_box, "/var/lib/filterd-web/tls/ca.key").startswith(
        "filterd-web:"
    )

    # The installed settings, only with the upstream on this namespace's loopback (tests never
    # reach the internet; nothing listens there, so names not blocked get SERVFAIL).
    config = real_root_box.root / "etc/filterd/filterd.yaml"
    settings = yaml.safe_load(config.read_text())
    settings["upstreams"] = ["127.0.0.1:9"]
    config.write_text(yaml.safe_dump(settings))

    logs = real_root_box.scratch / "logs"
    logs.mkdir()

    def start_filterd() -> subprocess.Popen:
        (command,) = real_root_box.unit_commands("filterd.service")[1:]
        return real_root_box.as_user("filterd", "filterd.service", command, logs / "filterd.log")

    def answer(name: str) -> str:
        """The answer's status and addresses ("NOERROR 192.168.77.2": the box, whose port 80
        serves the block page), "" when none came."""
        asked = ("dig", "@192.168.77.2", name, "+time=1", "+tries=1")
        found = real_root_box.on_phone(*asked, check=False).stdout
        status = re.search(r"status: (\w+)", found)
        addresses = re.findall(r"^\S+\s+\d+\s+IN\s+A\s+(\S+)$", found, re.M)
        return " ".join([status[1], *addresses]) if status else ""

    for unit in ("filterd.service", "filterd-dashboard.service"):  # ExecStartPre: check-config
        real_root_box.run(*real_root_box.unit_commands(unit)[0])
    filterd = start_filterd()
    (dashboard_command,) = real_root_box.unit_commands("filterd-dashboard.service")[1:]
    real_root_box.as_user(
        "filterd-web", "filterd-dashboard.service", dashboard_command, logs / "dashboard.log"
    )
    assert wait_for(lambda: answer(STRICT_ONLY) == "NOERROR 192.168.77.2", 20), (
        answer(STRICT_ONLY) + (logs / "filterd.log").read_text()
    )

    relay = PortIntoNamespace(real_root_box.net, free_port(), 443)
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
        assert owner_and_mode(real_root_box, "/var/lib/filterd/rules.yaml").startswith(
            "filterd-web:filterd "
        )
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
    (nightly,) = real_root_box.unit_commands("filterd-backup.service")
    backup = real_root_box.run(
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
def test_a_failing_step_stops_the_install_and_says_which(
    real_root_box: RealRootBox, fail: str
) -> None:
    done, calls = install_as_root(real_root_box, fail=fail)
    assert done.returncode != 0
    assert "install.sh: stopped, this step failed (exit " in done.stderr
    assert fail.split()[0] in done.stderr.rpartition("stopped")[2], done.stderr
    assert calls[-1 if fail.startswith("systemctl") else -2] == fail
    assert "filterd is installed" not in done.stdout
    if fail.startswith("apt-get"):  # nothing after it ran: no users, no units
        assert not any(c.startswith(("useradd", "systemctl")) for c in calls)
        assert not (real_root_box.scratch / "upper/etc/systemd/system/filterd.service").exists()


def test_when_the_dashboards_user_cannot_run_filterd_the_install_says_so(
    real_root_box: RealRootBox,
) -> None:
    """The set-up code and the certificate are made as filterd-web: when that user cannot run
    the installed command, the install ends in failure, naming what failed, instead of
    saying the dashboard is already set up."""
    private = real_root_box.scratch / "root-only-venv"
    (private / "bin").mkdir(parents=True)
    command = private / "bin/filterd"
    command.write_text(f'#!/bin/sh\nexec {VENV}/bin/filterd "$@"\n')
    command.chmod(0o700)  # root alone may run it
    done, _ = install_as_root(real_root_box, venv=str(private))
    assert done.returncode == 1
    assert "already set up" not in done.stdout
    assert "The set-up code could not be made" in done.stdout
    said = done.stderr
    assert "install.sh: installed, but the dashboard's user could not do this:" in said
    assert "the set-up code:" in said and "Permission denied" in said
