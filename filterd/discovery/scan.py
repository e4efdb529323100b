"""An active ARP sweep of the LAN subnet: every device that is switched on answers.

Run at start and by `filterd devices scan`; answers are also seen by the capture. The sweep
covers at most a /22 around the box's own address, so a misconfigured /8 cannot flood the LAN.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from filterd.discovery.observation import Observation, Source

MAX_PREFIX = 22


def interface_network(interface: str) -> tuple[ipaddress.IPv4Network, str] | None:
    """The IPv4 network of the interface and its own address (None when it has none)."""
    from scapy.all import conf

    conf.route.resync()
    for net, mask, gateway, iface, address, _ in conf.route.routes:
        if iface == interface and gateway == "0.0.0.0" and mask not in (0, 0xFFFFFFFF):
            network = ipaddress.IPv4Network(
                (ipaddress.IPv4Address(net), bin(mask).count("1")), strict=False
            )
            if network.prefixlen < MAX_PREFIX:
                network = ipaddress.IPv4Interface(f"{address}/{MAX_PREFIX}").network
            return network, address
    return None


def interface_mac(interface: str) -> str:
    """The interface's MAC now (a bridge's changes as ports join; scapy caches the old one)."""
    return Path(f"/sys/class/net/{interface}/address").read_text().strip()


def arp_sweep(interface: str, timeout: float = 2.0) -> list[Observation]:
    """Ask every address of the interface's subnet; one observation per answer."""
    from scapy.all import ARP, Ether, srp

    found = interface_network(interface)
    if found is None:
        return []
    network, own_address = found
    mac = interface_mac(interface)
    answered, _ = srp(
        Ether(src=mac, dst="ff:ff:ff:ff:ff:ff")
        / ARP(hwsrc=mac, psrc=own_address, pdst=str(network)),
        iface=interface,
        timeout=timeout,
        verbose=False,
    )
    return [
        Observation(str(reply[ARP].hwsrc).lower(), str(reply[ARP].psrc), Source.SCAN)
        for _, reply in answered
    ]
