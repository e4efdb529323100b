"""The address-to-MAC table: which device (MAC) discovery last saw using each address."""

from __future__ import annotations

from collections.abc import Callable


class Neighbours:
    """Kept current by discovery; a change makes identify work addresses out again."""

    def __init__(self) -> None:
        self.macs: dict[str, str] = {}  # address -> MAC
        self.changed: Callable[[], None] = lambda: None  # set by the rules service

    def learn(self, address: str, mac: str) -> None:
        """Discovery saw this address used by this MAC: the device's rules follow it."""
        if self.macs.get(address) != mac:
            self.macs[address] = mac
            self.changed()  # rare (addresses change by DHCP), and cheap
