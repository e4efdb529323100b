"""The block page's address for an IPv6 device: a real filterd, listening on ::1 too, answers a
child's device at ::1 asking AAAA for a blocked name with the box's own IPv6 address as that
device reaches it (here ::1), as it answers A with the box's IPv4 address; whether or not the
config names an IPv4 address for the block page. Never 0.0.0.0 or :: for a device that can
reach the box."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from dnslib import QTYPE, DNSRecord

from filterd.rules.guards import with_end_line
from tests.support.block_page_box import block_page_rules
from tests.support.dns_client import ask
from tests.support.filterd_process import free_port
from tests.support.lists import write_lists

PHONE_V6 = "::1"  # Sam's IPv6-only phone
CONFIGURED_V4 = "192.0.2.10"


def ask_from_the_phone(port: int, qtype: str) -> DNSRecord:
    """The blocked name asked over IPv6, from Sam's phone."""
    reply = ask(port, "social.example", qtype, host="::1", source=PHONE_V6, edns=True)
    assert reply is not None, "no answer over IPv6"
    return reply


def answers(reply: DNSRecord, qtype: str) -> list[str]:
    return [str(rr.rdata) for rr in reply.rr if rr.rtype == getattr(QTYPE, qtype)]


@pytest.mark.parametrize("ipv4", [None, CONFIGURED_V4], ids=["nothing-typed", "ipv4-typed"])
def test_an_ipv6_device_gets_the_boxs_ipv6_address_for_a_blocked_name(
    start_filterd, tmp_path: Path, ipv4
):
    rules_path = tmp_path / "rules.yaml"
    rules_path.write_text(with_end_line(yaml.safe_dump(block_page_rules(sam_device=PHONE_V6))))
    shipped = write_lists(tmp_path / "shipped", social=["social.example"])
    port = free_port()
    blocked_answer = {"style": "null_ip", **({"ipv4": ipv4} if ipv4 else {})}
    filterd = start_filterd(
        listen=[f"127.0.0.1:{port}", f"[::1]:{port}"],
        rules=str(rules_path),
        blocked_answer=blocked_answer,
        lists_update={
            "directory": str(tmp_path / "lists"),
            "shipped": str(shipped),
            "refresh_hours": 0,
        },
    )
    six = ask_from_the_phone(filterd.port, "AAAA")
    assert answers(six, "AAAA") == ["::1"], six
    four = ask_from_the_phone(filterd.port, "A")
    assert answers(four, "A") == ([ipv4] if ipv4 else []), four
    assert "0.0.0.0" not in answers(four, "A")
