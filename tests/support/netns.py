"""A small home network in network namespaces: an appliance with a LAN bridge, and devices.

    with Lan() as lan:
        phone = lan.add_device("00:1a:2b:3c:4d:5e", "10.215.0.10")
        phone.send_frames([bytes(frame)])           # scapy sendp on the phone's eth0
        phone.dig("10.215.0.1", 5353, "example.org")

The appliance namespace holds the bridge (br0, APPLIANCE/24, and APPLIANCE6/64 when IPv6 is
available); each device namespace holds one end of a veth pair, the other end is a port of the
bridge. Every link is created inside the namespaces (`ip netns exec APPLIANCE ip link add ...
peer ... netns DEVICE`), so nothing is added to the root namespace and no packet can leave:
the namespaces have no route out. close() deletes every namespace, which deletes its links.
Needs root and iproute2.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path

from tests.support.upstream_process import PROJECT_ROOT

SUBNET = "10.215.0"
APPLIANCE = f"{SUBNET}.1"
SUBNET6 = "fd15:215::"
APPLIANCE6 = f"{SUBNET6}1"
BRIDGE = "br0"
# Set, as on an appliance, so the bridge keeps it; left alone, a Linux bridge takes the lowest
# MAC of its ports and changes it whenever a device joins.
BRIDGE_MAC = "02:15:00:00:00:01"
DEVICE_INTERFACE = "eth0"

_SEND = """
import sys
from scapy.layers.l2 import Ether
from scapy.sendrecv import sendp
sendp([Ether(bytes.fromhex(h)) for h in sys.argv[2:]], iface=sys.argv[1], verbose=False)
"""


def available() -> str | None:
    """Why these tests cannot run here (None: they can)."""
    if os.geteuid() != 0:
        return "needs root to create network namespaces"
    if shutil.which("ip") is None:
        return "needs iproute2 (`ip`) to create network namespaces"
    if shutil.which("dig") is None:
        return "needs dig (bind9-dnsutils) for the devices' DNS queries"
    return None


def sh(*args: str, check: bool = True, timeout: float = 10) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}): {result.stderr}")
    return result


class Namespace:
    def __init__(self, name: str) -> None:
        self.name = name

    def run(self, *args: str, check: bool = True, timeout: float = 10):
        """A command inside the namespace."""
        return sh("ip", "netns", "exec", self.name, *args, check=check, timeout=timeout)

    def python(self, code: str, *args: str, timeout: float = 15):
        """This project's Python inside the namespace."""
        env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
        return subprocess.run(
            ["ip", "netns", "exec", self.name, sys.executable, "-c", code, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
            env=env,
            cwd=PROJECT_ROOT,
        )

    def python_wrapper(self, directory: Path) -> str:
        """An executable that runs this project's Python inside the namespace (for helpers
        that take a `python` path, such as ScriptedUpstream)."""
        path = directory / f"python-in-{self.name}"
        path.write_text(f'#!/bin/sh\nexec ip netns exec {self.name} {sys.executable} "$@"\n')
        path.chmod(0o755)
        return str(path)

    def ipv6(self) -> bool:
        """IPv6 is switched on in this namespace."""
        result = self.run("cat", "/proc/sys/net/ipv6/conf/all/disable_ipv6", check=False)
        return result.returncode == 0 and result.stdout.strip() == "0"


class Device(Namespace):
    """A device: its own namespace, one interface (eth0) with a chosen MAC and address."""

    def __init__(self, name: str, mac: str, address: str | None, address6: str | None) -> None:
        super().__init__(name)
        self.mac = mac
        self.address = address
        self.address6 = address6
        self.interface = DEVICE_INTERFACE

    def send_frames(self, frames: list[bytes]) -> None:
        """Put these Ethernet frames on the wire from the device (scapy sendp)."""
        self.python(_SEND, self.interface, *(frame.hex() for frame in frames))

    def dig(self, server: str, port: int, name: str, qtype: str = "A") -> str:
        """dig +short from the device: the answer text ('' when none came)."""
        result = self.run(
            "dig", f"@{server}", "-p", str(port), name, qtype, "+short", "+time=1", "+tries=1",
            check=False,
        )  # fmt: skip
        return result.stdout.strip() if result.returncode == 0 else ""

    def neighbour(self, address: str) -> str | None:
        """The MAC this device's kernel holds for an address (None: no entry)."""
        fields = self.run("ip", "neigh", "show", address, "dev", self.interface).stdout.split()
        return fields[fields.index("lladdr") + 1] if "lladdr" in fields else None

    def readdress(self, address: str) -> None:
        """A new IPv4 address, as after a new DHCP lease: old address and neighbours gone."""
        self.run("ip", "-4", "addr", "flush", "dev", self.interface)
        self.run("ip", "neigh", "flush", "dev", self.interface)
        self.run("ip", "addr", "add", f"{address}/24", "dev", self.interface)
        self.address = address


class Lan:
    """The appliance namespace with its bridge, and device namespaces on it."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:8]
        self.tag = tag
        self.appliance = Namespace(f"fd-app-{tag}")
        self.devices: list[Device] = []
        self.has_ipv6 = False
        self._created: list[str] = []
        self._count = 0

    def __enter__(self) -> Lan:
        try:
            self.open()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        app = self.appliance
        sh("ip", "netns", "add", app.name)
        self._created.append(app.name)
        app.run("ip", "link", "set", "lo", "up")
        # No multicast snooping: neighbour solicitations reach the appliance like any flood.
        app.run("ip", "link", "add", BRIDGE, "type", "bridge", "mcast_snooping", "0")
        app.run("ip", "link", "set", BRIDGE, "address", BRIDGE_MAC)
        app.run("ip", "addr", "add", f"{APPLIANCE}/24", "dev", BRIDGE)
        self.has_ipv6 = app.ipv6()
        if self.has_ipv6:
            app.run("ip", "-6", "addr", "add", f"{APPLIANCE6}/64", "dev", BRIDGE, "nodad")
        app.run("ip", "link", "set", BRIDGE, "up")

    def add_device(
        self, mac: str, address: str | None, address6: str | None = None, name: str = "dev"
    ) -> Device:
        """A device namespace joined to the bridge, its eth0 up with this MAC and address."""
        index, self._count = self._count, self._count + 1
        device = Device(f"fd-{name}{index}-{self.tag}", mac, address, address6)
        sh("ip", "netns", "add", device.name)
        self._created.append(device.name)
        self.devices.append(device)
        port = f"vd{index}"
        app = self.appliance
        app.run(
            "ip", "link", "add", port, "type", "veth",
            "peer", "name", device.interface, "netns", device.name,
        )  # fmt: skip
        app.run("ip", "link", "set", port, "master", BRIDGE)
        app.run("ip", "link", "set", port, "up")
        device.run("ip", "link", "set", "lo", "up")
        device.run("ip", "link", "set", device.interface, "address", mac)
        if address is not None:
            device.run("ip", "addr", "add", f"{address}/24", "dev", device.interface)
        if address6 is not None:
            device.run(
                "ip", "-6", "addr", "add", f"{address6}/64", "dev", device.interface, "nodad"
            )  # fmt: skip
        device.run("ip", "link", "set", device.interface, "up")
        return device

    def remove_device(self, device: Device) -> None:
        """Delete the device's namespace (its veth pair, and so its bridge port, goes too)."""
        sh("ip", "netns", "del", device.name, check=False)
        if device.name in self._created:
            self._created.remove(device.name)
        if device in self.devices:
            self.devices.remove(device)

    def close(self) -> None:
        for name in reversed(self._created):
            sh("ip", "netns", "del", name, check=False)
        self._created.clear()
        self.devices.clear()


CLONE_NEWNET = 0x40000000


class PortIntoNamespace:
    """127.0.0.1:PORT here reaches 127.0.0.1:PORT inside a namespace (a TCP relay).

    For a program run inside a namespace that the test talks to over loopback, such as
    chromedriver for a browser on a device (`ip netns exec DEVICE chromedriver`): the listening
    socket is made in this namespace, and a thread that has entered the device's namespace
    (setns(2) applies to the calling thread only) makes the outgoing connections.
    """

    def __init__(self, namespace: str, port: int, target_port: int | None = None) -> None:
        """`namespace`: a name from `ip netns`, or the path of a namespace (/proc/PID/ns/net).
        `target_port`: the port inside, when it is not the same as `port`."""
        self.namespace = namespace
        self.port = port
        self.target_port = target_port or port
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", port))
        self._listener.listen(16)
        self._listener.settimeout(0.2)
        self._stopping = threading.Event()
        self._entered = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        if not self._entered.wait(5):
            raise RuntimeError(f"could not enter the namespace {namespace}")

    def _serve(self) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        path = self.namespace if "/" in self.namespace else f"/var/run/netns/{self.namespace}"
        with open(path, "rb") as handle:
            if libc.setns(handle.fileno(), CLONE_NEWNET) != 0:
                return
        self._entered.set()
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                inside = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            for source, sink in ((client, inside), (inside, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()

    def close(self) -> None:
        self._stopping.set()
        self._listener.close()
        self._thread.join(5)


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy one direction of a relayed connection until either side closes."""
    try:
        source.settimeout(None)
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
        source.close()  # each socket is the source of exactly one pump
