"""Which addresses the box's own names answer with, when the config does not say.

In order: the addresses of the LAN interface discovery serves; else the listen addresses, when
they are specific ones; else the addresses of the interface the default route leaves by.
Link-local IPv6 addresses are left out (useless in an AAAA answer), and so is loopback unless
the box listens only there (a laptop's `make run`).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import subprocess
from collections.abc import Iterable

log = logging.getLogger(__name__)


def _ip_json(*args: str) -> list[dict]:
    try:
        done = subprocess.run(
            ["ip", "-j", *args], capture_output=True, text=True, timeout=5, check=True
        )
        return json.loads(done.stdout or "[]")
    except (OSError, subprocess.SubprocessError, ValueError) as err:
        log.warning("cannot read the box's addresses (ip %s): %s", " ".join(args), err)
        return []


def interface_addresses(interface: str) -> list[str]:
    """The interface's global (and site) IPv4 and IPv6 addresses."""
    found = []
    for link in _ip_json("addr", "show", "dev", interface):
        for info in link.get("addr_info", []):
            address = ipaddress.ip_address(info["local"])
            if not address.is_link_local and not address.is_loopback:
                found.append(str(address))
    return found


def default_route_interface() -> str | None:
    for route in _ip_json("route", "show", "default"):
        if route.get("dev"):
            return route["dev"]
    return None


def box_addresses(
    configured: Iterable[str], interface: str | None, listen_hosts: Iterable[str]
) -> list[str]:
    """The addresses to answer the box's names with (empty: NODATA, still never forwarded)."""
    configured = list(configured)
    if configured:
        return configured
    if interface:
        return interface_addresses(interface)
    specific = []
    for host in listen_hosts:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            continue
        if not address.is_unspecified:
            specific.append(str(address))
    if specific:
        return specific
    route = default_route_interface()
    return interface_addresses(route) if route else []
