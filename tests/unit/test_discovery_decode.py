"""Device discovery without a network: frames built with scapy, lease files, vendors, the store.

decode() is what the capture thread runs on every ARP, DHCP and neighbour-discovery frame a
device sends, so each hostile shape has to come back as Malformed with its reason (counted by
the daemon) rather than as an exception of any other kind or a bogus device.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

import pytest
from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import (
    ICMPv6ND_NA,
    ICMPv6ND_NS,
    ICMPv6ND_RA,
    ICMPv6NDOptDstLLAddr,
    ICMPv6NDOptSrcLLAddr,
    IPv6,
)
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Packet, Raw
from scapy.utils import mac2str

from filterd.db.devices import DeviceStore, Sighting
from filterd.db.retention import Retention
from filterd.discovery.decode import decode
from filterd.discovery.leases import read_leases
from filterd.discovery.observation import Malformed, Observation, Source
from filterd.discovery.oui import Vendors, is_private
from filterd.discovery.service import Discovery
from filterd.discovery.settings import DiscoverySettings
from tests.support.discovery_frames import (
    BROADCAST,
    MAC,
    bootp_bytes,
    dhcp_request,
    in_udp,
    real_vendor_prefix,
    registry_entries,
)

KEEP_ALL = Retention(activity_days=100_000, device_days=100_000)  # sightings at 1970 times
ROUTER_MAC = "00:1a:2b:00:00:01"


# -- frames ------------------------------------------------------------------------------------


def reason(frame: Packet | bytes) -> str:
    with pytest.raises(Malformed) as caught:
        decode(bytes(frame))
    return caught.value.reason


# -- DHCP --------------------------------------------------------------------------------------


def test_a_dhcp_request_names_the_device():
    found = decode(bytes(dhcp_request()))
    assert found == [
        Observation(
            MAC,
            "10.215.0.10",
            Source.DHCP,
            hostname="sams-phone",
            vendor_class="android-dhcp-13",
            fingerprint="1,3,6,15,26,28,51,58,59,43",
        )
    ]


def test_a_dhcp_request_without_requested_address_uses_ciaddr():
    frame = dhcp_request(requested=None)
    frame[BOOTP].ciaddr = "10.215.0.11"
    assert decode(bytes(frame))[0].address == "10.215.0.11"
    assert decode(bytes(dhcp_request(requested=None)))[0].address is None  # a DISCOVER-like ask


def test_a_dhcp_ack_gives_the_address_handed_out():
    ack = (
        Ether(src=ROUTER_MAC, dst=MAC)
        / IP(src="10.215.0.1", dst="10.215.0.10")
        / UDP(sport=67, dport=68)
        / BOOTP(op=2, yiaddr="10.215.0.10", chaddr=mac2str(MAC))
        / DHCP(options=[("message-type", "ack"), "end"])
    )
    assert decode(bytes(ack)) == [Observation(MAC, "10.215.0.10", Source.DHCP)]
    offer = ack.copy()
    offer[DHCP].options = [("message-type", "offer"), "end"]
    assert decode(bytes(offer)) == []  # an offer is not yet the device's address


@pytest.mark.parametrize(
    ("frame", "why"),
    [
        (in_udp(bootp_bytes(MAC, b"\x35\x01\x03\x0c\xc8sams")), "dhcp_option_overrun"),
        (in_udp(bootp_bytes(MAC, b"\x35\x01\x03\x0c")), "dhcp_option_overrun"),  # no length
        (dhcp_request(parameters=list(range(1, 256))), "dhcp_parameter_list"),
        (dhcp_request(hostname=b"sams\x00phone"), "dhcp_hostname"),
        (dhcp_request(hostname=b"sams\x1b[2Jphone"), "dhcp_hostname"),
        (dhcp_request(hostname=b"sams\x7fphone"), "dhcp_hostname"),
        (dhcp_request(hostname=b"\xff\xfe"), "dhcp_hostname"),  # not UTF-8
        (dhcp_request(vendor_class=b"android\x00dhcp"), "dhcp_vendor_class"),
        (dhcp_request(vendor_class=b"MSFT\n5.0"), "dhcp_vendor_class"),
        (in_udp(bytes(BOOTP(op=1, chaddr=mac2str(MAC)))[:100]), "dhcp_short"),
        (in_udp(bootp_bytes(MAC, b"\x35\x01\x03\xff", magic=bytes(4))), "dhcp_no_magic_cookie"),
    ],
    ids=[
        "option-overrun",
        "option-without-length",
        "255-entry-option-55",
        "nul-in-hostname",
        "escape-in-hostname",
        "del-in-hostname",
        "hostname-not-utf8",
        "nul-in-vendor-class",
        "newline-in-vendor-class",
        "short-bootp",
        "no-magic-cookie",
    ],
)
def test_malformed_dhcp_is_refused_with_its_reason(frame: Packet, why: str):
    assert reason(frame) == why


def test_a_long_but_plausible_parameter_list_is_kept():
    found = decode(bytes(dhcp_request(parameters=list(range(1, 65)))))
    assert found[0].fingerprint == ",".join(str(n) for n in range(1, 65))


def test_a_long_host_name_is_cut_not_refused():
    found = decode(bytes(dhcp_request(hostname=b"a" * 200)))
    assert found[0].hostname == "a" * 64


def test_dhcp_from_a_multicast_or_zero_mac_says_nothing():
    for mac in ("00:00:00:00:00:00", "01:00:5e:00:00:01"):
        assert decode(bytes(dhcp_request(mac=mac))) == []


# -- ARP ---------------------------------------------------------------------------------------


def test_arp_request_and_reply_map_address_to_mac():
    request = Ether(src=MAC, dst=BROADCAST) / ARP(
        op=1, hwsrc=MAC, psrc="10.215.0.10", pdst="10.215.0.1"
    )
    reply = Ether(src=MAC, dst=ROUTER_MAC) / ARP(
        op=2, hwsrc=MAC, psrc="10.215.0.10", hwdst=ROUTER_MAC, pdst="10.215.0.1"
    )
    for frame in (request, reply):
        assert decode(bytes(frame)) == [Observation(MAC, "10.215.0.10", Source.ARP)]


def test_an_arp_probe_gives_no_address():
    probe = Ether(src=MAC, dst=BROADCAST) / ARP(op=1, hwsrc=MAC, psrc="0.0.0.0", pdst="10.215.0.10")
    found = decode(bytes(probe))
    assert [o.address for o in found] == [None] * len(found)
    assert all(o.mac == MAC for o in found)


def test_arp_for_something_other_than_ethernet_and_ipv4_is_malformed():
    frame = Ether(src=MAC, dst=BROADCAST) / ARP(
        op=1, hwsrc=MAC, psrc="10.215.0.10", pdst="10.215.0.1"
    )
    frame[ARP].hwlen = 8
    assert reason(frame) == "arp_not_ethernet_ipv4"


# -- IPv6 neighbour discovery ------------------------------------------------------------------


def test_a_neighbour_solicitation_with_source_lladdr_maps_its_source():
    ns = (
        Ether(src=MAC, dst="33:33:ff:00:00:01")
        / IPv6(src="fd15::10", dst="ff02::1:ff00:1", hlim=255)
        / ICMPv6ND_NS(tgt="fd15::1")
        / ICMPv6NDOptSrcLLAddr(lladdr=MAC)
    )
    assert decode(bytes(ns)) == [Observation(MAC, "fd15::10", Source.NDP)]


def test_a_neighbour_advertisement_maps_its_target_to_the_target_lladdr():
    na = (
        Ether(src=MAC, dst="33:33:00:00:00:01")
        / IPv6(src="fe80::21a:2bff:fe3c:4d5e", dst="ff02::1", hlim=255)
        / ICMPv6ND_NA(tgt="fd15::10", R=0, S=0, O=1)
        / ICMPv6NDOptDstLLAddr(lladdr=MAC)
    )
    assert decode(bytes(na)) == [Observation(MAC, "fd15::10", Source.NDP)]


def test_duplicate_address_detection_gives_no_address():
    without_option = (
        Ether(src=MAC, dst="33:33:ff:00:00:10")
        / IPv6(src="::", dst="ff02::1:ff00:10", hlim=255)
        / ICMPv6ND_NS(tgt="fd15::10")
    )
    with_option = without_option / ICMPv6NDOptSrcLLAddr(lladdr=MAC)  # not allowed, but sent
    for frame in (without_option, with_option):
        assert all(o.address is None for o in decode(bytes(frame)))


def test_a_router_advertisement_is_ignored():
    ra = (
        Ether(src=ROUTER_MAC, dst="33:33:00:00:00:01")
        / IPv6(src="fe80::1", dst="ff02::1", hlim=255)
        / ICMPv6ND_RA()
        / ICMPv6NDOptSrcLLAddr(lladdr=ROUTER_MAC)
    )
    assert decode(bytes(ra)) == []


def test_nd_option_of_length_zero_is_malformed():
    ns = (
        Ether(src=MAC, dst="33:33:ff:00:00:01")
        / IPv6(src="fd15::10", dst="ff02::1:ff00:1", hlim=255)
        / ICMPv6ND_NS(tgt="fd15::1")
        / Raw(b"\x01\x00" + bytes.fromhex(MAC.replace(":", "")))
    )
    assert reason(ns) == "ndp_option_overrun"


def test_nd_option_longer_than_the_packet_is_malformed():
    ns = (
        Ether(src=MAC, dst="33:33:ff:00:00:01")
        / IPv6(src="fd15::10", dst="ff02::1:ff00:1", hlim=255)
        / ICMPv6ND_NS(tgt="fd15::1")
        / Raw(b"\x01\x04" + bytes.fromhex(MAC.replace(":", "")))
    )
    assert reason(ns) == "ndp_option_overrun"


def test_truncated_nd_is_malformed():
    truncated = (
        Ether(src=MAC, dst="33:33:ff:00:00:01")
        / IPv6(src="fd15::10", dst="ff02::1:ff00:1", hlim=255, nh=58)
        / Raw(b"\x87\x00\x00\x00\x00\x00\x00\x00\xfd\x15")  # an NS cut inside its target
    )
    assert reason(truncated) == "ndp_short"
    padded = bytes(truncated) + bytes(64 - len(bytes(truncated)))  # as Ethernet pads it
    assert reason(padded) == "ndp_short"


def test_other_traffic_says_nothing():
    dns = Ether(src=MAC, dst=ROUTER_MAC) / IP(src="10.215.0.10", dst="10.215.0.1") / UDP(dport=53)
    assert decode(bytes(dns)) == []
    for junk in (b"", b"\x00" * 13, bytes(range(256))):
        with contextlib.suppress(Malformed):  # the only other answer allowed
            assert decode(junk) == []
    with pytest.raises(Malformed):
        decode(bytes(dhcp_request())[:300])  # cut inside the DHCP options


# -- lease files -------------------------------------------------------------------------------


def test_dnsmasq_leases(tmp_path: Path):
    path = tmp_path / "dnsmasq.leases"
    path.write_text(
        "1767225600 00:1a:2b:3c:4d:5e 192.168.1.20 sams-phone 01:00:1a:2b:3c:4d:5e\n"
        "1767225600 3A:11:22:33:44:55 192.168.1.21 * *\n"
        "duid 00:01:00:01:2c:5f:00:00:00:1a:2b:3c:4d:5e\n"
        "this line is not a lease at all\n"
        "1767225600 not-a-mac 192.168.1.22 junk *\n"
        "1767225600 00:1a:2b:3c:4d:5f 999.168.1.23 junk *\n"
        "1767225600 00:1a:2b:3c:4d:60 2001:db8::23 laptop 00:01:00:01\n"
        "\n"
    )
    assert read_leases(path) == [
        Observation("00:1a:2b:3c:4d:5e", "192.168.1.20", Source.LEASES, hostname="sams-phone"),
        Observation("3a:11:22:33:44:55", "192.168.1.21", Source.LEASES),
        Observation("00:1a:2b:3c:4d:60", "2001:db8::23", Source.LEASES, hostname="laptop"),
    ]


ISC_LEASES = """\
# The format of this file is documented in the dhcpd.leases(5) manual page.
# This lease file was written by isc-dhcp-4.4.3
authoring-byte-order little-endian;
server-duid "\\000\\001\\000\\001-\\337\\221\\004\\000\\032+<M^";

lease 192.168.1.30 {
  starts 3 2026/01/07 10:12:13;
  ends 3 2026/01/07 22:12:13;
  binding state active;
  hardware ethernet 00:1A:2B:3C:4D:61;
  uid "\\001\\000\\032+<Ma";
  set vendor-class-identifier = "android-dhcp-13";
  client-hostname "old-name";
}
lease 192.168.1.31 {
  binding state free;
}
lease not-an-address {
  hardware ethernet 00:1a:2b:3c:4d:62;
}
lease 192.168.1.32 {
  hardware ethernet zz:1a:2b:3c:4d:63;
}
lease 192.168.1.30 {
  binding state active;
  hardware ethernet 00:1a:2b:3c:4d:64;
  client-hostname "tablet";
}
lease 192.168.1.33 {
  hardware ethernet 00:1a:2b:3c:4d:65;
}
"""


def test_isc_dhcpd_leases(tmp_path: Path):
    path = tmp_path / "dhcpd.leases"
    path.write_text(ISC_LEASES)
    found = sorted(read_leases(path))
    assert found == [
        Observation("00:1a:2b:3c:4d:64", "192.168.1.30", Source.LEASES, hostname="tablet"),
        Observation("00:1a:2b:3c:4d:65", "192.168.1.33", Source.LEASES),
    ]


def test_isc_lease_whose_uid_holds_a_brace_keeps_its_host_name(tmp_path: Path):
    path = tmp_path / "dhcpd.leases"
    path.write_text(
        "lease 192.168.1.40 {\n"
        "  binding state active;\n"
        "  hardware ethernet 00:1a:2b:3c:4d:7d;\n"
        '  uid "\\001\\000\\032+<M}";\n'
        '  client-hostname "sams-phone";\n'
        "}\n"
    )
    assert read_leases(path) == [
        Observation("00:1a:2b:3c:4d:7d", "192.168.1.40", Source.LEASES, hostname="sams-phone")
    ]


def test_kea_csv_leases(tmp_path: Path):
    path = tmp_path / "kea-leases4.csv"
    path.write_text(
        "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,"
        "state,user_context,pool_id\n"
        "192.168.1.50,00:1a:2b:3c:4d:70,01:00:1a:2b:3c:4d:70,3600,1767225600,1,0,0,"
        "games-console,0,,0\n"
        "192.168.1.51,3a:1a:2b:3c:4d:71,,3600,1767225600,1,0,0,,0,,0\n"
        "garbage\n"
        "192.168.1.52,,,3600,1767225600,1,0,0,nomac,0,,0\n"
        "not-an-ip,00:1a:2b:3c:4d:72,,3600,1767225600,1,0,0,x,0,,0\n"
    )
    assert read_leases(path) == [
        Observation("00:1a:2b:3c:4d:70", "192.168.1.50", Source.LEASES, hostname="games-console"),
        Observation("3a:1a:2b:3c:4d:71", "192.168.1.51", Source.LEASES),
    ]


def test_lease_host_names_with_control_characters_are_dropped(tmp_path: Path):
    path = tmp_path / "dnsmasq.leases"
    path.write_text("1767225600 00:1a:2b:3c:4d:5e 192.168.1.20 sams\x1bphone *\n")
    assert read_leases(path) == [Observation(MAC, "192.168.1.20", Source.LEASES)]


def test_a_missing_lease_file_gives_nothing(tmp_path: Path):
    assert read_leases(tmp_path / "absent.leases") == []


# -- vendors and private addresses -------------------------------------------------------------


def test_a_real_ieee_prefix_gives_its_organisation():
    found = real_vendor_prefix()
    if found is None:
        pytest.skip("no IEEE OUI registry installed (Debian's ieee-data)")
    prefix, organisation = found
    assert not is_private(f"{prefix}:12:34:56")
    assert Vendors().vendor(f"{prefix}:12:34:56") == organisation


def test_an_unknown_prefix_has_no_vendor(tmp_path: Path):
    registry = tmp_path / "oui.txt"
    registry.write_text("00-1A-2B   (hex)\t\tExample Devices Ltd\n001A2B     (base 16)\t\tx\n")
    vendors = Vendors((registry,))
    assert vendors.vendor("00:1a:2b:01:02:03") == "Example Devices Ltd"
    assert vendors.vendor("00:1a:2c:01:02:03") is None
    assert Vendors((tmp_path / "absent.txt",)).vendor("00:1a:2b:01:02:03") is None


@pytest.mark.parametrize(
    "mac", ["02:00:00:00:00:01", "3a:11:22:33:44:55", "06:ab:cd:ef:01:23", "de:ad:be:ef:00:01"]
)
def test_a_locally_administered_mac_is_private_and_has_no_vendor(mac: str):
    assert is_private(mac)
    assert Vendors().vendor(mac) is None


def test_a_registry_entry_with_the_local_bit_still_counts_as_private():
    """The registry lists a few old prefixes such as 02-60-8C; the bit still means private."""
    local = [p for p in registry_entries() if int(p[:2], 16) & 0x02]
    if not local:
        pytest.skip("no IEEE OUI registry installed, or it lists no locally administered prefix")
    assert is_private(f"{local[0]}:00:00:01")
    assert Vendors().vendor(f"{local[0]}:00:00:01") is None


def test_a_globally_administered_mac_is_not_private():
    assert not is_private("00:1a:2b:3c:4d:5e")
    assert not is_private("f4:0f:24:00:00:01")


# -- the device store --------------------------------------------------------------------------


def sighting(address: str | None, seen: float, hostname: str | None = None) -> Sighting:
    return Sighting(MAC, address, hostname, "Example Ltd", "android-dhcp-13", "1,3,6", False, seen)


def test_the_store_raises_new_device_once_and_keeps_every_address(tmp_path: Path):
    store = DeviceStore(tmp_path / "filterd.db", KEEP_ALL)
    try:
        assert store.record([sighting("10.215.0.10", 1000.0, "sams-phone")]) == [MAC]
        assert store.record([sighting("10.215.0.11", 1010.0)]) == []
        assert store.record([sighting(None, 1020.0)]) == []
        other = Sighting("3a:00:00:00:00:02", None, None, None, None, None, True, 1030.0)
        assert store.record([other]) == ["3a:00:00:00:00:02"]
        rows = {row.mac: row for row in store.known()}
    finally:
        store.close()
    phone = rows[MAC]
    assert (phone.address, phone.hostname) == ("10.215.0.11", "sams-phone")  # name kept
    assert (phone.first_seen, phone.last_seen) == (1000.0, 1020.0)
    assert rows["3a:00:00:00:00:02"].private
    with sqlite3.connect(tmp_path / "filterd.db") as db:
        events = db.execute(
            "SELECT mac, kind, detail, ts FROM device_events ORDER BY id"
        ).fetchall()
        addresses = db.execute(
            "SELECT address, first_seen, last_seen FROM device_addresses WHERE mac = ?"
            " ORDER BY address",
            (MAC,),
        ).fetchall()
    assert events == [
        (MAC, "new_device", "sams-phone", 1000.0),
        ("3a:00:00:00:00:02", "new_device", "", 1030.0),
    ]
    assert addresses == [("10.215.0.10", 1000.0, 1000.0), ("10.215.0.11", 1010.0, 1010.0)]


def test_a_second_store_on_the_same_file_sees_the_device(tmp_path: Path):
    """`filterd devices list` opens the database the daemon writes."""
    writer, reader = (
        DeviceStore(tmp_path / "filterd.db", KEEP_ALL),
        DeviceStore(tmp_path / "filterd.db", KEEP_ALL),
    )
    try:
        writer.record([sighting("10.215.0.10", 1000.0, "sams-phone")])
        assert [(d.mac, d.hostname) for d in reader.known()] == [(MAC, "sams-phone")]
    finally:
        writer.close()
        reader.close()


class FixedClock:
    def time(self) -> float:
        return 1000.0

    def monotonic(self) -> float:
        return 1000.0


def test_every_address_seen_between_two_writes_is_recorded(tmp_path: Path):
    store = DeviceStore(tmp_path / "filterd.db", KEEP_ALL)
    learned: dict[str, str] = {}
    discovery = Discovery(
        DiscoverySettings(),
        store,
        learned.__setitem__,
        FixedClock(),
        Vendors((tmp_path / "no-registry.txt",)),
    )
    discovery.observe(
        [
            Observation(MAC, "10.215.0.10", Source.DHCP, hostname="sams-phone"),
            Observation(MAC, "fe80::21a:2bff:fe3c:4d5e", Source.NDP),
        ]
    )
    asyncio.run(discovery.flush())
    store.close()
    both = {"10.215.0.10", "fe80::21a:2bff:fe3c:4d5e"}
    assert set(learned) == both  # the DNS path learns both (this part holds)
    with sqlite3.connect(tmp_path / "filterd.db") as db:
        rows = db.execute("SELECT address FROM device_addresses WHERE mac = ?", (MAC,))
        kept = {address for (address,) in rows}
    assert kept == both
