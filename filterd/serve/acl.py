"""Who may query: the allow_clients networks. filterd is never an open resolver."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ClientAcl:
    """Membership test with a per-address memo, so the hot path costs one dict lookup."""

    MEMO_LIMIT = 65_536

    def __init__(self, networks: Iterable[Network]) -> None:
        self.networks = tuple(networks)
        self._memo: dict[str, bool] = {}

    def configure(self, networks: Iterable[Network]) -> None:
        """New allow_clients from a reloaded config; every address is judged afresh."""
        self.networks = tuple(networks)
        self._memo = {}

    def allows(self, host: str) -> bool:
        verdict = self._memo.get(host)
        if verdict is None:
            verdict = self._decide(host)
            if len(self._memo) >= self.MEMO_LIMIT:
                self._memo.clear()
            self._memo[host] = verdict
        return verdict

    def _decide(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in net for net in self.networks if net.version == address.version)
