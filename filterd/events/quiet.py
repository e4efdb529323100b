"""A child's device on the network but silent on DNS: a VPN, encrypted DNS or another route.

Discovery says when it last saw each address on the LAN; the query log says when each address
last asked filterd anything. A device owned by a child, seen in the last couple of minutes,
that has asked nothing for QUIET_SECONDS while that child may be online (no pause, no
offline window) is reported once, until it asks again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from filterd.events.kinds import DEVICE_QUIET

QUIET_SECONDS = 600.0
SEEN_RECENTLY = 120.0  # discovery saw the device this recently: it is on the network now

# address -> (child id, whether the child may be online now), or None for no child's device
ChildOf = Callable[[str], tuple[str, bool] | None]


class QuietDevices:
    def __init__(self, emit: Callable[..., None], started: float) -> None:
        self.emit = emit
        self.started = started  # no DNS is known from before filterd started
        self.reported: set[str] = set()

    def check(
        self,
        now: float,
        seen: Mapping[str, float],
        asked: Mapping[str, float],
        child_of: ChildOf,
    ) -> None:
        """seen: address -> last time on the LAN; asked: address -> last DNS query."""
        # A device that has asked again may be reported again when it next goes quiet.
        self.reported = {a for a in self.reported if asked.get(a, 0.0) < now - QUIET_SECONDS}
        for address, last_seen in seen.items():
            if now - last_seen > SEEN_RECENTLY or address in self.reported:
                continue
            last_asked = max(asked.get(address, 0.0), self.started)
            if now - last_asked < QUIET_SECONDS:
                continue
            owner = child_of(address)
            if owner is None or not owner[1]:
                continue
            self.reported.add(address)
            minutes = int((now - last_asked) // 60)
            self.emit(DEVICE_QUIET, owner[0], address, {"quiet_minutes": minutes})
