"""The policy package's section of filterd.yaml, `box_names`: which names mean this box, and
its addresses."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from filterd.dns.wire import text_to_wire

KEYS = {"names", "addresses"}
DEFAULT_NAMES = ("filterd.home.arpa",)


@dataclass(frozen=True, slots=True)
class BoxNameSettings:
    names: tuple[str, ...] = DEFAULT_NAMES
    # Empty: the addresses of the interface the box serves (filterd.policy.box_addresses).
    addresses: tuple[str, ...] = ()


def parse_box_names(v: Any, raw: Any) -> BoxNameSettings:
    """v is filterd.validate.Validator: it collects problems; bad values fall back to defaults."""
    raw = v.mapping(raw, "box_names", KEYS)
    names: list[str] = []
    given = raw.get("names", list(DEFAULT_NAMES))
    if not isinstance(given, list):
        v.fail("box_names.names", f"expected a list of names, got {v.show(given)}")
        given = list(DEFAULT_NAMES)
    for i, item in enumerate(given):
        name = str(item).strip().rstrip(".").lower()
        try:
            text_to_wire(name)
        except (ValueError, UnicodeError) as err:
            v.fail(f"box_names.names[{i}]", f"not a domain name: {err}")
            continue
        names.append(name)
    addresses: list[str] = []
    given = raw.get("addresses", [])
    if not isinstance(given, list):
        v.fail("box_names.addresses", f"expected a list of IP addresses, got {v.show(given)}")
        given = []
    for i, item in enumerate(given):
        try:
            addresses.append(str(ipaddress.ip_address(str(item))))
        except ValueError:
            v.fail(f"box_names.addresses[{i}]", f"not an IP address: {v.show(item)}")
    return BoxNameSettings(tuple(names), tuple(addresses))
