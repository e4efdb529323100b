"""deploy/install.sh run into a scratch root (`--root`), as the install tests run it: the
script, what it prints, the settings it writes read from outside the root, and an empty root
that has the systemd units a Debian box has, so `systemd-analyze verify` can check ours."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.support.upstream_process import PROJECT_ROOT

INSTALL = PROJECT_ROOT / "deploy" / "install.sh"
# The dashboard's listeners: one dual-stack socket on [::] when the box has IPv6 (as this one,
# and a Raspberry Pi, do), else every IPv4 address.
WEB_ANY = "[::]" if Path("/proc/net/if_inet6").read_text().strip() else "0.0.0.0"


def install_into(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`install.sh --root ROOT ARGS`, run from ROOT's parent; it must succeed and leave that
    directory as it was."""
    done = subprocess.run(
        ["bash", str(INSTALL), "--root", str(root), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root.parent,  # whatever directory it is run from gets nothing
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (root.parent / "var").exists()
    return done


def root_view(root: Path) -> Path:
    """The installed settings with their paths inside the scratch root, to run commands on."""
    text = (root / "etc/filterd/filterd.yaml").read_text()
    view = root / "view.yaml"
    view.write_text(text.replace('"/var/lib/', f'"{root}/var/lib/'))
    return view


def box_address() -> str:
    """The IPv4 address of the interface the default route leaves by, as install.sh finds it."""
    route = subprocess.run(["ip", "route", "show", "default"], capture_output=True, text=True)
    lan = route.stdout.split()[4]
    shown = subprocess.run(
        ["ip", "-4", "-o", "addr", "show", "dev", lan], capture_output=True, text=True
    )
    return shown.stdout.split()[3].split("/")[0]


def a_debian_box(tmp_path: Path) -> Path:
    """An empty root with systemd's own units, as on Debian, for systemd-analyze."""
    root = tmp_path / "box"
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    return root
