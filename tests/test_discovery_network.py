"""Device discovery with real packets: filterd inside an "appliance" network namespace.

The appliance namespace has a LAN bridge (br0, 10.215.0.1/24 and fd15:215::1/64) and its own
scripted upstream on its loopback; each device is a namespace of its own joined to the bridge
by a veth pair, with a chosen MAC address (tests/support/netns.py). Devices put real frames on
the wire with scapy and ask real DNS questions with dig. Nothing is added to the root
namespace and no packet can leave the namespaces.

filterd runs with `discovery: {interface: br0, neighbour_table: false}`: with the kernel's
neighbour table switched off, everything it learns here comes from its own packet capture
(ARP, DHCP, IPv6 neighbour discovery), which is what these tests are about.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Callable, Iterator

import pytest
import yaml

from filterd.rules.guards import with_end_line
from tests.support.discovery_frames import bootp_bytes, dhcp_request, in_udp, real_vendor_prefix
from tests.support.filterd_process import FilterdProcess, run_cli, wait_for
from tests.support.netns import APPLIANCE, APPLIANCE6, BRIDGE, Device, Lan, available
from tests.support.upstream_process import ScriptedUpstream

pytestmark = pytest.mark.skipif(available() is not None, reason=str(available()))

PORT = 53  # the appliance's own namespace: the real DNS port is free
_REAL = real_vendor_prefix()  # a prefix the IEEE registry on this machine lists, and its owner
PREFIX, VENDOR = _REAL if _REAL else ("00:1a:2b", None)

SAM_PHONE = f"{PREFIX}:21:50:01"  # one MAC per test, so tests sharing the daemon stay apart
SAM_LAPTOP = f"{PREFIX}:21:50:02"
SAM_TABLET = f"{PREFIX}:21:50:03"
SAM_WATCH = f"{PREFIX}:21:50:04"
VISITOR = f"{PREFIX}:21:50:10"  # not in the rules: household rules only
PRIVATE = "3a:5e:21:50:00:11"  # locally administered: a phone's private Wi-Fi address
HOSTILE = f"{PREFIX}:21:50:12"
LATECOMER = f"{PREFIX}:21:50:13"
QUIET = f"{PREFIX}:21:50:14"

NULL = "0.0.0.0"
SOON = 8.0  # "within a few seconds": the daemon writes devices to SQLite every 2 s


class Home:
    """The appliance namespace running filterd, and a way to add devices to its LAN."""

    def __init__(self, lan: Lan, filterd: FilterdProcess) -> None:
        self.lan = lan
        self.filterd = filterd

    def devices_list(self) -> str:
        """`filterd devices list` run from the root namespace on the daemon's config."""
        result = run_cli("devices", "list", "--config", str(self.filterd.config_path))
        assert result.returncode == 0, result.stderr
        return result.stdout

    def line_for(self, mac: str) -> str:
        return next((line for line in self.devices_list().splitlines() if mac in line), "")

    def query(self, sql: str, *args: object) -> list[tuple]:
        if not self.filterd.db_path.exists():
            return []
        with sqlite3.connect(self.filterd.db_path, timeout=5) as db:
            try:
                return db.execute(sql, args).fetchall()
            except sqlite3.OperationalError:  # tables not created yet
                return []

    def device(self, mac: str) -> dict | None:
        rows = self.query(
            "SELECT mac, address, hostname, vendor, vendor_class, fingerprint, private"
            " FROM devices WHERE mac = ?",
            mac,
        )
        keys = ("mac", "address", "hostname", "vendor", "vendor_class", "fingerprint", "private")
        return dict(zip(keys, rows[0], strict=True)) if rows else None

    def addresses(self, mac: str) -> set[str]:
        return {a for (a,) in self.query("SELECT address FROM device_addresses WHERE mac = ?", mac)}

    def malformed(self, problem: str) -> float:
        return self.filterd.metric("filterd_discovery_malformed_packets_total", problem=problem)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    workdir = tmp_path_factory.mktemp("discovery-network")
    with Lan() as lan:
        python = lan.appliance.python_wrapper(workdir)
        with ScriptedUpstream(python=python) as upstream:  # on the appliance's loopback
            shipped = workdir / "shipped"
            shipped.mkdir()
            (shipped / "social.txt").write_text("social.example\n")
            rules = workdir / "rules.yaml"
            rules.write_text(with_end_line(yaml.safe_dump(rules_file())))
            listen = [f"{APPLIANCE}:{PORT}", f"127.0.0.1:{PORT}"]
            if lan.has_ipv6:
                listen.append(f"[{APPLIANCE6}]:{PORT}")
            (workdir / "filterd").mkdir()
            filterd = FilterdProcess(
                workdir / "filterd",
                [upstream.addr],
                netns=lan.appliance.name,
                listen=listen,
                rules=str(rules),
                lists_update={"directory": str(workdir / "lists"), "shipped": str(shipped)},
                discovery={"interface": BRIDGE, "neighbour_table": False},
            )
            try:
                filterd.start()
                assert wait_for(lambda: "listening for ARP, DHCP" in filterd.log()), filterd.log()
                yield Home(lan, filterd)
            finally:
                filterd.stop()
            assert "Traceback" not in filterd.log(), filterd.log()


def rules_file() -> dict:
    owned = [
        (SAM_PHONE, "Sam's phone"),
        (SAM_LAPTOP, "Sam's laptop"),
        (SAM_TABLET, "Sam's tablet"),
        (SAM_WATCH, "Sam's watch"),
    ]
    return {
        "timezone": "Europe/London",
        "unknown_devices": "household",  # so only a match on the MAC can block social.example
        "children": {"sam": {"name": "Sam", "age_band": "9_12", "offline": []}},
        "devices": [{"mac": mac, "name": name, "owner": "sam"} for mac, name in owned],
    }


@pytest.fixture
def add_device(home: Home) -> Iterator[Callable[..., Device]]:
    """Join a device to the LAN for this test; it leaves (namespace deleted) afterwards."""
    added: list[Device] = []

    def add(mac: str, address: str | None, address6: str | None = None) -> Device:
        device = home.lan.add_device(mac, address, address6)
        added.append(device)
        return device

    yield add
    for device in added:
        home.lan.remove_device(device)


def blocked(device: Device, server: str = APPLIANCE) -> Callable[[], bool]:
    return lambda: device.dig(server, PORT, "social.example") == NULL


def addresses_of(home: Home, mac: str) -> list[tuple]:
    return home.query("SELECT address FROM device_addresses WHERE mac = ?", mac)


def test_a_dhcp_request_shows_the_device_with_its_name_and_vendor(home: Home, add_device):
    phone = add_device(SAM_PHONE, "10.215.0.10")
    request = dhcp_request(SAM_PHONE, b"sams-phone", b"android-dhcp-13", requested="10.215.0.10")
    phone.send_frames([bytes(request)])

    assert wait_for(lambda: "sams-phone" in home.line_for(SAM_PHONE), SOON, 0.3), (
        home.devices_list() + home.filterd.log()
    )
    line = home.line_for(SAM_PHONE)
    assert "sam (Sam's phone)" in line  # the owner, from the rules file
    # The IPv4 lease is shown, and kept, even when an IPv6 router solicitation came after it.
    assert "10.215.0.10" in line
    assert wait_for(lambda: ("10.215.0.10",) in addresses_of(home, SAM_PHONE), SOON, 0.3)
    if VENDOR is None:
        pytest.skip("no IEEE OUI registry installed: name shown, vendor not checked")
    assert VENDOR[:21] in line
    found = home.device(SAM_PHONE)
    assert found is not None
    assert found["vendor"] == VENDOR
    assert found["vendor_class"] == "android-dhcp-13"
    assert found["fingerprint"] == "1,3,6,15,26,28,51,58,59,43"
    assert found["private"] == 0
    events = home.query("SELECT kind FROM device_events WHERE mac = ?", SAM_PHONE)
    assert events == [("new_device",)]


def test_the_childs_rules_follow_her_mac_and_not_the_visitors(home: Home, add_device):
    laptop = add_device(SAM_LAPTOP, "10.215.0.20")
    visitor = add_device(VISITOR, "10.215.0.21")

    assert wait_for(blocked(laptop), SOON, 0.1), home.filterd.log()
    assert laptop.dig(APPLIANCE, PORT, "ok-discovery.example") not in ("", NULL)
    answer = visitor.dig(APPLIANCE, PORT, "social.example")
    assert answer not in ("", NULL)
    # The visitor was seen (its MAC is known), it is simply not one of Sam's devices.
    assert wait_for(lambda: home.device(VISITOR) is not None, SOON, 0.2)
    assert visitor.dig(APPLIANCE, PORT, "social.example") == answer


def test_when_the_address_changes_the_rules_follow_within_seconds(home: Home, add_device):
    tablet = add_device(SAM_TABLET, "10.215.0.30")
    assert wait_for(blocked(tablet), SOON, 0.1), home.filterd.log()

    tablet.readdress("10.215.0.31")  # a new lease: the appliance learns it by ARP
    moved = time.monotonic()
    assert wait_for(blocked(tablet), 5, 0.1), "the child's rules did not follow the new address"
    assert time.monotonic() - moved < 5
    both = {("10.215.0.30",), ("10.215.0.31",)}
    assert wait_for(lambda: both <= set(addresses_of(home, SAM_TABLET)), SOON, 0.3)


def test_a_private_mac_is_flagged(home: Home, add_device):
    phone = add_device(PRIVATE, "10.215.0.40")
    phone.send_frames([bytes(dhcp_request(PRIVATE, b"galaxy-s24", requested="10.215.0.40"))])

    assert wait_for(lambda: "private address" in home.line_for(PRIVATE), SOON, 0.3), (
        home.devices_list()
    )
    found = home.device(PRIVATE)
    assert found is not None
    assert (found["private"], found["vendor"], found["hostname"]) == (1, None, "galaxy-s24")


def test_malformed_dhcp_is_counted_and_discovery_keeps_going(home: Home, add_device):
    problems = ("dhcp_option_overrun", "dhcp_hostname", "dhcp_parameter_list")
    before = {problem: home.malformed(problem) for problem in problems}
    hostile = add_device(HOSTILE, "10.215.0.50")
    hostile.send_frames(
        [
            bytes(in_udp(bootp_bytes(HOSTILE, b"\x35\x01\x03\x0c\xc8sams"), HOSTILE)),  # overrun
            bytes(dhcp_request(HOSTILE, b"evil\x00name")),
            bytes(dhcp_request(HOSTILE, b"evil", parameters=list(range(1, 256)))),
        ]
    )
    assert wait_for(lambda: all(home.malformed(p) >= before[p] + 1 for p in problems), SOON, 0.3), (
        home.filterd.metrics()
    )

    latecomer = add_device(LATECOMER, "10.215.0.51")
    latecomer.send_frames([bytes(dhcp_request(LATECOMER, b"school-laptop", b"MSFT 5.0"))])
    assert wait_for(
        lambda: (home.device(LATECOMER) or {}).get("hostname") == "school-laptop", SOON, 0.2
    ), home.filterd.log()
    assert home.filterd.proc is not None and home.filterd.proc.poll() is None
    assert (home.device(HOSTILE) or {}).get("hostname") is None  # nothing of it was believed


def test_an_ipv6_device_is_known_by_its_mac(home: Home, add_device):
    if not home.lan.has_ipv6:
        pytest.skip("IPv6 is disabled in the appliance namespace (/proc/sys/net/ipv6)")
    watch = add_device(SAM_WATCH, None, address6="fd15:215::60")

    # Its neighbour solicitation for the appliance carries its MAC: the query that follows
    # gets Sam's rules, over IPv6, with no IPv4 address anywhere.
    assert wait_for(blocked(watch, APPLIANCE6), SOON, 0.1), home.filterd.log()
    assert wait_for(lambda: home.device(SAM_WATCH) is not None, SOON, 0.2)
    assert watch.dig(APPLIANCE6, PORT, "ok-discovery6.example", "AAAA") != ""


def test_devices_scan_finds_a_device_that_has_said_nothing(home: Home, add_device):
    quiet = add_device(QUIET, "10.215.0.60")
    result = home.lan.appliance.run(
        sys.executable, "-m", "filterd", "devices", "scan",
        "--config", str(home.filterd.config_path),
        timeout=30,
    )  # fmt: skip
    assert f"{QUIET}  10.215.0.60" in result.stdout, result.stdout + result.stderr
    assert "devices answered on br0" in result.stdout
    assert quiet.mac in home.devices_list()


SWEEP_AFTER_MAC_CHANGE = """
import subprocess, sys
import filterd.discovery.decode  # loaded when the daemon's capture starts
subprocess.run(["ip", "link", "set", "br0", "address", sys.argv[1]], check=True)
from filterd.discovery.scan import arp_sweep
print(" ".join(o.mac for o in arp_sweep("br0", timeout=0.5)))
"""


def test_the_arp_sweep_announces_the_appliances_current_mac():
    with Lan() as lan:
        device = lan.add_device(QUIET, "10.215.0.70")
        found = lan.appliance.python(SWEEP_AFTER_MAC_CHANGE, "02:15:00:00:00:02").stdout
        assert QUIET in found  # the sweep itself worked
        assert device.neighbour(APPLIANCE) == "02:15:00:00:00:02"
