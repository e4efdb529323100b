"""Identify: which profile answers a client address (device by IP, or by MAC via the
neighbour table; unknown devices get the default profile)."""

from __future__ import annotations

import ipaddress

from filterd.rules.child_state import ChildState
from filterd.rules.model import Device

_MEMO_LIMIT = 4096
_MISSING = object()


class Directory:
    """Address -> ChildState, or None for household-only devices. Memoised per address."""

    def __init__(
        self,
        devices: tuple[Device, ...],
        states: dict[str, ChildState],
        unknown: ChildState | None,
        neighbours: dict[str, str],
    ) -> None:
        self.by_ip = {d.ip: states.get(d.owner) if d.owner else None for d in devices if d.ip}
        self.by_mac = {d.mac: states.get(d.owner) if d.owner else None for d in devices if d.mac}
        self.unknown = unknown
        self.neighbours = neighbours
        self.memo: dict[str, ChildState | None] = {}

    def lookup(self, client: str) -> ChildState | None:
        found = self.memo.get(client, _MISSING)
        if found is _MISSING:
            if len(self.memo) >= _MEMO_LIMIT:
                self.memo.clear()
            found = self.memo[client] = self._resolve(client)
        return found  # type: ignore[return-value]

    def _resolve(self, client: str) -> ChildState | None:
        try:
            address = str(ipaddress.ip_address(client.partition("%")[0]))
        except ValueError:
            return self.unknown
        if address in self.by_ip:
            return self.by_ip[address]
        mac = self.neighbours.get(address)
        if mac is not None and mac in self.by_mac:
            return self.by_mac[mac]
        return self.unknown
