"""Identify: which profile answers a client address.

A device is listed by IP address or by MAC address; discovery keeps address -> MAC current
(`neighbours`), so a phone listed by MAC, or listed by one address, is recognised at every
address it uses (a new DHCP lease, its IPv6 addresses). Until the MAC behind an address is
known, while any device is listed by MAC, the address gets a provisional profile whose answers
live only a few seconds, and discovery is asked to look it up at once.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from filterd.policy.safesearch import rewrites
from filterd.rules.child_state import CHILD_MAX_TTL, PROVISIONAL_TTL, ChildState
from filterd.rules.decide import HOUSEHOLD
from filterd.rules.model import Device, Profile, Rules
from filterd.rules.usage import UsageTracker

_MEMO_LIMIT = 4096
_MISSING = object()


class Identify:
    """Address -> ChildState, or None for household-only devices. Memoised per address."""

    def __init__(
        self,
        devices: tuple[Device, ...],
        states: dict[str, ChildState],
        unknown: ChildState | None,
        provisional: ChildState,
        neighbours: dict[str, str],
        unresolved: Callable[[str], None],
    ) -> None:
        self.by_ip = {d.ip: states.get(d.owner) if d.owner else None for d in devices if d.ip}
        self.by_mac = {d.mac: states.get(d.owner) if d.owner else None for d in devices if d.mac}
        self.unknown = unknown
        self.provisional = provisional  # unknown's rules with short-lived answers
        self.neighbours = neighbours  # address -> MAC, kept current by discovery
        self.unresolved = unresolved  # asks discovery to find this address's MAC now
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
        if mac is None:
            if self.by_mac or self.by_ip:
                self.unresolved(address)
                return self.provisional
            return self.unknown
        if mac in self.by_mac:
            return self.by_mac[mac]
        for listed, state in self.by_ip.items():  # another address of a device listed by IP
            if self.neighbours.get(listed) == mac:
                return state
        return self.unknown


def identify_for(
    rules: Rules,
    tracker: UsageTracker,
    neighbours: dict[str, str],
    unresolved: Callable[[str], None],
) -> Identify:
    """Identify for these rules: one ChildState per child, for unknown devices, and the
    provisional one (unknown's rules, or the household's, with short-lived answers)."""

    def state(profile: Profile, max_ttl: int = CHILD_MAX_TTL) -> ChildState:
        return ChildState(profile, rules.timezone, tracker, rewrites(profile.safe_search), max_ttl)

    states = {child_id: state(profile) for child_id, profile in rules.children.items()}
    unknown = None if rules.unknown is None else state(rules.unknown)
    provisional = state(rules.unknown or HOUSEHOLD, PROVISIONAL_TTL)
    return Identify(rules.devices, states, unknown, provisional, neighbours, unresolved)
