"""Which answer addresses count as inside the home (finding 9 of issue 11)."""

from __future__ import annotations

import ipaddress

import pytest

from filterd.dns.sanitize import is_rebinding_address

INSIDE = [
    "64:ff9b::192.168.1.1",  # NAT64 of a home address
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "64:ff9b:1::1",  # local-use NAT64
    "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "::10.0.0.1",  # IPv4-compatible
    "::ffff:192.168.0.1",  # mapped
    "::ffff:0:192.168.1.1",  # SIIT (RFC 2765 IPv4-translated)
    "::ffff:0:a00:1",  # SIIT of 10.0.0.1
    "2001:db8::5efe:192.168.1.1",  # ISATAP of a home address, any prefix
    "fe80::200:5efe:10.0.0.1",  # ISATAP, universal/local bit set
    "255.255.255.255",
    "224.0.0.251",
    "239.255.255.250",
    "198.18.0.1",
    "198.19.255.254",
    "fec0::1",
    "ff02::1",
]
OUTSIDE = [
    "93.184.216.34",
    "2606:4700::1111",
    "64:ff9b::5db8:d822",
    "2002:5db8:d822::1",
    "::ffff:0:5db8:d822",  # SIIT of a public address
    "2001:db8::5efe:5db8:d822",  # ISATAP of a public address
]


@pytest.mark.parametrize("text", INSIDE)
def test_inside_addresses_and_their_ipv6_disguises_are_caught(text):
    assert is_rebinding_address(ipaddress.ip_address(text).packed)


def test_a_teredo_address_of_an_inside_client_is_caught():
    teredo = ipaddress.IPv6Address("2001:0:4136:e378:8000:63bf:" + "f5ff:fefe")  # 10.0.1.1 xor
    assert teredo.teredo[1] == ipaddress.IPv4Address("10.0.1.1")
    assert is_rebinding_address(teredo.packed)


@pytest.mark.parametrize("text", OUTSIDE)
def test_public_addresses_pass(text):
    assert not is_rebinding_address(ipaddress.ip_address(text).packed)
