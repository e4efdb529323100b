"""The box's own names (filterd.home.arpa and any configured): answered with the box's
addresses, A and AAAA, and never forwarded, so a carer can type the name on any device and no
public resolver learns it exists. The local-answers stage (filterd.policy.local_answers) asks
these, above policy, so no list can block the way to the dashboard."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from filterd.dns.answers import NO_RECORDS, build_answer
from filterd.dns.query import Query, Reason, Reply
from filterd.dns.wire import NOERROR, RR_FIXED, T_A, T_AAAA, text_to_wire

TTL = 60  # short: the box's DHCP address may change


class BoxNames:
    """The box's names and the answer to each; `names` is what the stage checks first."""

    def __init__(self, names: Iterable[str], addresses: Iterable[str]) -> None:
        self.names: frozenset[bytes] = frozenset()
        self.records: dict[int, tuple[int, bytes]] = {}
        self.configure(names, addresses)

    def configure(self, names: Iterable[str], addresses: Iterable[str]) -> None:
        """New names or addresses (at start and on reload); takes effect on the next query."""
        by_type: dict[int, list[bytes]] = {T_A: [], T_AAAA: []}
        for text in addresses:
            address = ipaddress.ip_address(text)
            qtype = T_A if address.version == 4 else T_AAAA
            packed = address.packed
            record = b"\xc0\x0c" + RR_FIXED.pack(qtype, 1, TTL, len(packed)) + packed
            by_type[qtype].append(record)
        self.records = {qtype: (len(rrs), b"".join(rrs)) for qtype, rrs in by_type.items()}
        self.names = frozenset(text_to_wire(name.lower().rstrip(".")) for name in names)

    def answer(self, query: Query) -> Reply:
        """The box's addresses of the asked type, for a name in `names`."""
        count, body = self.records.get(query.qtype, (0, b""))
        # Another type (MX, TXT...) or no address of that family: NODATA, still never upstream.
        wire = build_answer(query, NOERROR, 0, (count, 0, 0) if count else NO_RECORDS, body)
        return Reply(wire, NOERROR, Reason.LOCAL, False)
