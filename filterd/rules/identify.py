"""Identify: which profile answers a client address.

A device is listed by IP address or by MAC address; discovery keeps address -> MAC current
(`neighbours`), so a phone listed by MAC, or listed by one address, is recognised at every
address it uses (a new DHCP lease, its IPv6 addresses). Until the MAC behind an address is
known, while any device is listed by MAC, the address gets a provisional profile whose answers
live only a few seconds, and discovery is asked to look it up at once.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping

from filterd.rules.child_state import CHILD_MAX_TTL, PROVISIONAL_TTL, ChildState
from filterd.rules.decide import HOUSEHOLD
from filterd.rules.model import Device, Profile, Rules
from filterd.rules.safe_search_names import rewrites
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
        self.listed = Listed(devices)
        self.states = states
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
        mac = self.neighbours.get(address)
        if mac is None and address not in self.listed.by_ip:
            if self.listed.by_mac or self.listed.by_ip:
                self.unresolved(address)
                return self.provisional
            return self.unknown
        device = self.listed.entry(address, self.neighbours)
        if device is None:
            return self.unknown
        return self.states.get(device.owner) if device.owner else None


class Listed:
    """The rules' devices indexed by address and by MAC (the parser refuses either twice)."""

    def __init__(self, devices: Iterable[Device]) -> None:
        devices = tuple(devices)
        self.by_ip = {d.ip: d for d in devices if d.ip}
        self.by_mac = {d.mac: d for d in devices if d.mac}

    def entry(self, address: str, neighbours: Mapping[str, str]) -> Device | None:
        """filterd's precedence: the entry listing this address; else the one listing the MAC
        behind it (`neighbours`: address -> MAC); else a device listed by another address that
        the same MAC uses. A phone listed by MAC that took over an address another device is
        listed by is that other device until the rules say otherwise."""
        if address in self.by_ip:
            return self.by_ip[address]
        mac = neighbours.get(address)
        if mac is None:
            return None
        if mac in self.by_mac:
            return self.by_mac[mac]
        for listed, device in self.by_ip.items():  # another address of a device listed by IP
            if neighbours.get(listed) == mac:
                return device
        return None


def everyone_as(state: ChildState) -> Identify:
    """An Identify for which every address is this child's device: no device listed, and
    unknown devices are the child's (the per-profile self-test judges its questions so)."""
    return Identify((), {}, state, state, {}, lambda address: None)


def device_entry(
    devices: Iterable[Device], address: str, neighbours: Mapping[str, str]
) -> Device | None:
    """The rules' entry for the device at `address`, as filterd identifies it: the one answer
    for filterd, the dashboard's review queue and the block page (`neighbours`: address ->
    MAC, at least for this address and the device's other addresses)."""
    try:
        address = str(ipaddress.ip_address(address.partition("%")[0]))
    except ValueError:
        return None
    return Listed(devices).entry(address, neighbours)


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
