"""A device discovery has never seen is one device.new event, recorded with the real store."""

from __future__ import annotations

import asyncio

from filterd.clock import SystemClock
from filterd.db.devices import DeviceStore
from filterd.discovery.observation import Observation, Source
from filterd.discovery.service import Discovery
from filterd.discovery.settings import DiscoverySettings


def test_only_the_first_sighting_of_a_device_is_an_event(tmp_path):
    emitted: list[tuple] = []
    discovery = Discovery(
        DiscoverySettings(), DeviceStore(tmp_path / "filterd.db"), lambda a, m: None, SystemClock()
    )
    discovery.emit = lambda kind, child="", device="", data=None: emitted.append(
        (kind.name, device, data)
    )
    seen = Observation("02:00:00:00:00:0a", "192.0.2.10", Source.DHCP, hostname="sams-phone")

    async def twice() -> None:
        for _ in range(2):
            discovery.observe([seen])
            await discovery.flush()

    asyncio.run(twice())
    assert emitted == [
        (
            "device.new",
            "192.0.2.10",
            {"mac": "02:00:00:00:00:0a", "hostname": "sams-phone", "vendor": ""},
        )
    ]
    assert "192.0.2.10" in discovery.seen_at
