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
        # Verdicts of addresses already judged. Always this one dict (cleared, never replaced),
        # so admission can look an address up itself and call allows() only for a new one.
        self.known: dict[str, bool] = {}

    def configure(self, networks: Iterable[Network]) -> None:
        """New allow_clients from a reloaded config; every address is judged afresh."""
        self.networks = tuple(networks)
        self.known.clear()

    def allows(self, host: str) -> bool:
        known = self.known
        verdict = known.get(host)
        if verdict is None:
            verdict = self._decide(host)
            if len(known) >= self.MEMO_LIMIT:
                known.clear()
            known[host] = verdict
        return verdict

    def _decide(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in net for net in self.networks if net.version == address.version)
