"""A device listed by MAC address gets its child's rules, wherever DHCP puts it.

A network namespace plays the child's phone: a veth pair whose far end has a fixed MAC, so
the box's kernel neighbour table maps the phone's address to that MAC, as on a home LAN.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from filterd.rules.guards import with_end_line
from tests.support.filterd_process import free_port, wait_for
from tests.support.netns import sh

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None or shutil.which("dig") is None,
    reason="needs root, iproute2 and dig to create a network namespace",
)

BOX = "10.213.0.1"
PHONE = "10.213.0.2"
PHONE_MAC = "02:00:00:00:21:01"


@pytest.fixture
def phone() -> Iterator[str]:
    """A namespace with one veth end (PHONE, PHONE_MAC); the other end (BOX) stays here."""
    tag = uuid.uuid4().hex[:6]
    namespace, host_end, phone_end = f"fd-{tag}", f"fdh{tag}", f"fdp{tag}"
    sh("ip", "netns", "add", namespace)
    try:
        sh("ip", "link", "add", host_end, "type", "veth", "peer", "name", phone_end)
        sh("ip", "link", "set", phone_end, "netns", namespace)
        sh("ip", "addr", "add", f"{BOX}/24", "dev", host_end)
        sh("ip", "link", "set", host_end, "up")
        inside = ("ip", "netns", "exec", namespace)
        sh(*inside, "ip", "link", "set", phone_end, "address", PHONE_MAC)
        sh(*inside, "ip", "addr", "add", f"{PHONE}/24", "dev", phone_end)
        sh(*inside, "ip", "link", "set", phone_end, "up")
        sh(*inside, "ip", "link", "set", "lo", "up")
        yield namespace
    finally:
        subprocess.run(["ip", "link", "del", host_end], capture_output=True)
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True)


def dig_from(namespace: str, port: int, name: str) -> str:
    result = subprocess.run(
        ["ip", "netns", "exec", namespace, "dig", f"@{BOX}", "-p", str(port), name, "+short"],
        capture_output=True,
        text=True,
        timeout=10,
    )
    return result.stdout.strip()


def test_a_phone_listed_by_mac_gets_its_childs_rules(start_filterd, tmp_path: Path, phone: str):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / "social.txt").write_text("social.example\n")
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        with_end_line(
            yaml.safe_dump(
                {
                    "unknown_devices": "household",
                    "children": {"sam": {"age_band": "9_12", "offline": []}},
                    "devices": [{"mac": PHONE_MAC.upper(), "name": "Sam's phone", "owner": "sam"}],
                }
            )
        )
    )
    port = free_port()
    start_filterd(
        listen=[f"127.0.0.1:{port}", f"{BOX}:{port}"],
        rules=str(rules),
        lists_update={"directory": str(tmp_path / "lists"), "shipped": str(shipped)},
    )
    assert wait_for(lambda: dig_from(phone, port, "social.example") == "0.0.0.0", timeout=8), (
        "the phone was not recognised by its MAC address"
    )
    assert dig_from(phone, port, "www.google.com").startswith("forcesafesearch.google.com.")
    assert dig_from(phone, port, "ok.example") not in ("", "0.0.0.0")
