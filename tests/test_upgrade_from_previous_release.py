"""Upgrading a box the previous release installed (issue 13), end to end on the real-root path.

The previous release (PREVIOUS: the last one whose installer set up filterd alone) is taken
from this repository's history and installed by its own deploy/install.sh, as root, in the
private mount and network namespaces of tests/support/real_root_box.py. Its filterd runs as
its user and answers a phone on the LAN, so filterd.db holds the query log and devices that
release wrote; the carer has added a child to the rules by hand. Then today's installer runs
over it, and today's units' commands start as their users on what it left.

It shows: the settings and rules are kept byte for byte (and the carer is told the old settings
keep the dashboard on the box only), today's check-config accepts the old settings, filterd.db
opens (migrated in place when older) with the old query log kept, the child's rules apply, and
the dashboard starts on the old settings, asks for the set-up code, and shows the device the old
release saw.

Stubs, as for tests/test_install_real_root.py, only for what cannot run here: apt-get and
systemctl, and, for the previous installer only, `python3 -m venv` + `pip install` (no package
index in the namespace): its environment runs the previous release's code from /opt/filterd
with this test's Python packages.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from filterd.db.schema import SCHEMA_VERSION
from tests.support.filterd_process import free_port, stop_process, wait_for
from tests.support.netns import PortIntoNamespace
from tests.support.real_root_box import STUBS, RealRootBox, install_as_root, needs_real_root
from tests.support.upstream_process import PROJECT_ROOT
from tests.support.web_client import Device

PREVIOUS = "9aaa35dd3c89385d41ab53a792f0cd9ff325ab28"


def _has_previous() -> bool:
    found = subprocess.run(
        ["git", "-C", str(PROJECT_ROOT), "cat-file", "-e", f"{PREVIOUS}^{{commit}}"],
        capture_output=True,
    )
    return found.returncode == 0


pytestmark = [
    needs_real_root,
    pytest.mark.skipif(not _has_previous(), reason="needs the repository's history"),
]

# The previous installer's `python3 -m venv DIR`, then `DIR/bin/pip install -e /opt/filterd`:
# an environment whose filterd is the previous release's code in /opt/filterd.
VENV_STUB = """#!/bin/sh
echo "python3 $*" >> {log}
[ "$1 $2" = "-m venv" ] || exec {python} "$@"
mkdir -p "$3/bin"
printf '#!/bin/sh\\necho "pip $*" >> {log}\\n' > "$3/bin/pip"
printf '#!/bin/sh\\nPYTHONPATH=/opt/filterd exec {python} -m filterd "$@"\\n' > "$3/bin/filterd"
chmod 0755 "$3/bin/pip" "$3/bin/filterd"
"""
CHILD = "children:\n  sam: {name: Sam, age_band: '9_12'}\n"
STRICT_ONLY = "bet365.com"


def previous_install(machine: RealRootBox) -> subprocess.CompletedProcess:
    tree = machine.scratch / "previous"
    tree.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(PROJECT_ROOT), "archive", PREVIOUS], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    stubs = machine.scratch / "previous-stubs"
    stubs.mkdir()
    calls = machine.scratch / "previous-calls.log"
    for name in ("apt-get", "systemctl"):
        (stubs / name).write_text(STUBS[name].format(log=calls))
    (stubs / "useradd").write_text(STUBS["useradd"].format(log=calls))
    (stubs / "python3").write_text(VENV_STUB.format(log=calls, python=sys.executable))
    for stub in stubs.iterdir():
        stub.chmod(0o755)
    machine.open_the_way_to_python()
    done = machine.run(
        "env", "-u", "DEBIAN_FRONTEND", f"PATH={stubs}:/usr/sbin:/usr/bin:/sbin:/bin",
        "bash", str(tree / "deploy/install.sh"), check=False, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_todays_installer_upgrades_a_box_the_previous_release_installed(
    real_root_box: RealRootBox,
) -> None:
    said = previous_install(real_root_box).stdout
    assert "filterd is running" in said  # the previous release's own closing words
    etc, state = real_root_box.root / "etc/filterd", real_root_box.root / "var/lib/filterd"
    assert not (real_root_box.root / "etc/systemd/system/filterd-dashboard.service").exists()

    # The carer's own changes: a child in the rules; upstreams on this namespace's loopback.
    rules = state / "rules.yaml"
    rules.write_text(rules.read_text().replace("children: {}\n", CHILD))
    config = etc / "filterd.yaml"
    config.write_text(
        re.sub(r'(?m)^upstreams:\n(  - ".*"\n)+', 'upstreams:\n  - "127.0.0.1:9"\n',
               config.read_text())
    )  # fmt: skip
    logs = real_root_box.scratch / "logs"
    logs.mkdir()

    def answer(name: str) -> str:
        asked = ("dig", "@192.168.77.2", name, "+time=1", "+tries=1")
        found = real_root_box.on_phone(*asked, check=False).stdout
        status = re.search(r"status: (\w+)", found)
        addresses = re.findall(r"^\S+\s+\d+\s+IN\s+A\s+(\S+)$", found, re.M)
        return " ".join([status[1], *addresses]) if status else ""

    # The previous release's filterd, as its unit ran it, answers the phone and logs it.
    (old_command,) = real_root_box.unit_commands("filterd.service")[1:]
    old = real_root_box.as_user("filterd", "filterd.service", old_command, logs / "previous.log")
    assert wait_for(lambda: answer("old-release-was-asked.example") != "", 30), (
        logs / "previous.log"
    ).read_text()
    assert wait_for(lambda: "1 children" in (logs / "previous.log").read_text(), 10)
    assert stop_process(old, timeout=20) == 0
    kept = {path: path.read_bytes() for path in (config, rules)}
    old_version, old_queries = query(
        real_root_box, "PRAGMA user_version", "SELECT count(*) FROM queries"
    )
    assert old_version <= SCHEMA_VERSION and old_queries >= 1  # migrated below if older

    # Today's installer over it.
    done, calls = install_as_root(real_root_box)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "filterd is upgraded. Every setting, account, rule and log was kept." in done.stdout
    assert "let the dashboard answer only on this box" in done.stdout
    code = re.search(r"take the box over:\s+(\S+)", done.stdout)
    assert code, done.stdout
    assert "useradd --system --home /var/lib/filterd-web" in "\n".join(calls)
    assert not any(c.startswith("useradd --system --home /var/lib/filterd ") for c in calls)
    # Kept, but for the box's address added to the hosts the dashboard answers to (issue 13)
    assert rules.read_bytes() == kept[rules]
    hosts = b'  allowed_hosts: ["localhost", "127.0.0.1", "filterd.home.arpa"'
    assert hosts in kept[config]
    assert config.read_bytes() == kept[config].replace(hosts, hosts + b', "192.168.77.2"')

    # Today's units on what the previous release left.
    for unit in ("filterd.service", "filterd-dashboard.service"):
        real_root_box.run(
            *real_root_box.unit_commands(unit)[0]
        )  # ExecStartPre: check-config on the old settings
    (filterd_command,) = real_root_box.unit_commands("filterd.service")[1:]
    real_root_box.as_user("filterd", "filterd.service", filterd_command, logs / "filterd.log")
    (dashboard_command,) = real_root_box.unit_commands("filterd-dashboard.service")[1:]
    real_root_box.as_user(
        "filterd-web", "filterd-dashboard.service", dashboard_command, logs / "dashboard.log"
    )
    assert wait_for(lambda: "filterd answering on" in (logs / "filterd.log").read_text(), 30), (
        logs / "filterd.log"
    ).read_text()
    assert "rules loaded: 1 children" in (logs / "filterd.log").read_text()
    # The phone is still nobody's: strict.
    assert wait_for(lambda: answer(STRICT_ONLY) == "NOERROR 0.0.0.0", 10), answer(STRICT_ONLY)

    version, names = query(
        real_root_box, "PRAGMA user_version", "SELECT group_concat(name) FROM queries"
    )
    assert version == SCHEMA_VERSION
    assert "old-release-was-asked.example" in names.split(",")

    # The dashboard, on the old settings (127.0.0.1:8443), first asks for the set-up code.
    relay = PortIntoNamespace(real_root_box.net, free_port(), 8443)
    try:
        carer = Device(f"https://127.0.0.1:{relay.port}")
        assert wait_for(lambda: _page(carer, "/setup"), 30), (logs / "dashboard.log").read_text()
        assert "Set-up code" in carer.get("/setup").text
        form = {"code": code[1], "name": "Jo", "password": "three words remembered well"}
        created = carer.post("/setup", form | {"confirm": form["password"]})
        assert created.status == 302, created.text[-2000:]
        devices = carer.get("/devices/")
        assert devices.status == 200 and "192.168.77.20" in devices.text
    finally:
        relay.close()


def query(machine: RealRootBox, *statements: str) -> list:
    """The first value of each statement, read from filterd.db inside the box (SQLite would
    follow /proc/PID/root out of it)."""
    code = (
        "import json, sqlite3, sys; db = sqlite3.connect('/var/lib/filterd/filterd.db');"
        " print(json.dumps([db.execute(s).fetchone()[0] for s in sys.argv[1:]]))"
    )
    done = machine.run(sys.executable, "-c", code, *statements)
    return json.loads(done.stdout)


def _page(device: Device, path: str) -> bool:
    try:
        return device.get(path).status == 200
    except OSError:
        return False
