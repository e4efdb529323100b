"""Discovery inside the daemon: gather observations, keep address -> MAC current, record devices.

Sources: the capture (ARP, DHCP, neighbour discovery) when the interface is configured and
filterd has CAP_NET_RAW; the kernel's neighbour table every few seconds; lease files; an ARP
sweep at start. Every change of address -> MAC goes straight to the rules' directory (on the
event loop, so a DNS lookup never waits), and device records go to SQLite from a thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable

from filterd.clock import Clock
from filterd.db.devices import DeviceStore, Sighting
from filterd.discovery.neighbours import read_neighbours
from filterd.discovery.observation import Observation, Source
from filterd.discovery.oui import Vendors, is_private
from filterd.discovery.settings import DiscoverySettings
from filterd.events.kinds import DEVICE_NEW, ignore_event
from filterd.log_throttle import QuietLog

log = logging.getLogger(__name__)

POLL_INTERVAL = 5.0  # neighbour table and lease files
RESOLVE_GAP = 1.0  # at most one extra neighbour-table read a second for unknown addresses
FLUSH_INTERVAL = 2.0  # device records to SQLite


def shown_address(addresses: tuple[str, ...]) -> str | None:
    """The address to show for a device: its latest IPv4 (what carers and routers show),
    else its latest global IPv6, else whatever it used last."""
    for wanted in (lambda a: ":" not in a, lambda a: not a.startswith("fe80:")):
        for address in reversed(addresses):
            if wanted(address):
                return address
    return addresses[-1] if addresses else None


class Discovery:
    def __init__(
        self,
        settings: DiscoverySettings,
        store: DeviceStore,
        learn: Callable[[str, str], None],
        clock: Clock,
        vendors: Vendors | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.learn = learn  # (address, mac): the rules' directory follows the device
        self.clock = clock
        self.vendors = vendors or Vendors()
        self.addresses: dict[str, str] = {}  # address -> MAC, as last seen
        self.seen_at: dict[str, float] = {}  # address -> when it was last seen on the LAN
        self.emit: Callable[..., None] = ignore_event  # the daemon's EventRecorder.emit
        self.pending: dict[str, Sighting] = {}
        self.malformed: Counter[str] = Counter()
        self.new_devices = 0
        # A full or read-only disk fails every flush (each few seconds): said once, then a
        # summary now and then, and its end said.
        self.cannot_record = QuietLog(log, "discovery: cannot record devices")
        self.capturing = False
        self._capture = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task] = []
        self._last_resolve = 0.0

    def resolve_soon(self, address: str) -> None:
        """A query came from an address with no known MAC: read the neighbour table now
        rather than at the next poll (the kernel has just resolved it to answer the query)."""
        now = self.clock.monotonic()
        if self._loop is None or not self.settings.neighbour_table:
            return
        if now - self._last_resolve < RESOLVE_GAP:
            return
        self._last_resolve = now
        self._tasks = [t for t in self._tasks if not t.done()]
        self._tasks.append(self._loop.create_task(self._read_soon()))

    async def _read_soon(self) -> None:
        await asyncio.sleep(0.05)  # the kernel adds the entry as it sends our answer
        try:
            await self._read_tables()
        except Exception:
            log.exception("discovery")

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if self.settings.interface:
            self._start_capture(self.settings.interface)
        elif self.settings.neighbour_table:
            log.info("discovery: no interface configured; learning from the neighbour table")
        self._tasks.append(asyncio.create_task(self._poll()))
        if self.capturing and self.settings.scan_on_start:
            self._tasks.append(asyncio.create_task(self.scan()))

    def _start_capture(self, interface: str) -> None:
        from filterd.discovery.capture import Capture  # scapy loads only when capturing

        capture = Capture(interface, self._from_thread, self._count_malformed)
        try:
            capture.open()
        except PermissionError:
            log.warning(
                "discovery: no CAP_NET_RAW, so no capture on %s; learning devices from the"
                " neighbour table only (run under deploy/filterd.service, which grants it)",
                interface,
            )
            return
        except OSError as err:
            log.warning(
                "discovery: cannot capture on %s (%s); neighbour table only", interface, err
            )
            return
        capture.start()
        self._capture = capture
        self.capturing = True
        log.info("discovery: listening for ARP, DHCP and neighbour discovery on %s", interface)

    def _from_thread(self, observations: list[Observation]) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.observe, observations)

    def _count_malformed(self, reason: str) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.malformed.update, [reason])

    def observe(self, observations: list[Observation]) -> None:
        """Adopt what was seen (on the event loop)."""
        now = self.clock.time()
        for seen in observations:
            address = seen.address
            if address is not None:
                self.seen_at[address] = now
            if address is not None and self.addresses.get(address) != seen.mac:
                self.addresses[address] = seen.mac
                self.learn(address, seen.mac)
            before = self.pending.get(seen.mac)
            addresses = before.addresses if before else ()
            if address is not None and address not in addresses:
                addresses += (address,)
            self.pending[seen.mac] = Sighting(
                seen.mac,
                shown_address(addresses),
                seen.hostname or (before.hostname if before else None),
                self.vendors.vendor(seen.mac),
                seen.vendor_class or (before.vendor_class if before else None),
                seen.fingerprint or (before.fingerprint if before else None),
                is_private(seen.mac),
                now,
                addresses,
            )

    async def _poll(self) -> None:
        next_poll = 0.0
        while True:
            try:
                now = self.clock.monotonic()
                if now >= next_poll:
                    next_poll = now + POLL_INTERVAL
                    await self._read_tables()
                await self.flush()
            except Exception:  # discovery must keep going whatever one round met
                log.exception("discovery")
            await asyncio.sleep(FLUSH_INTERVAL)

    async def _read_tables(self) -> None:
        from filterd.discovery.leases import read_leases

        found: list[Observation] = []
        if self.settings.neighbour_table:
            table = await asyncio.to_thread(read_neighbours)
            found += [Observation(mac, ip, Source.NEIGHBOURS) for ip, mac in table.items()]
        for path in self.settings.lease_files:
            found += await asyncio.to_thread(read_leases, path)
        if found:
            self.observe(found)

    async def scan(self) -> int:
        """An ARP sweep of the LAN (needs the capability); the number of devices that answered."""
        from filterd.discovery.scan import arp_sweep

        if not self.settings.interface:
            return 0
        try:
            found = await asyncio.to_thread(arp_sweep, self.settings.interface)
        except (PermissionError, OSError) as err:
            log.warning("discovery: ARP sweep failed: %s", err)
            return 0
        self.observe(found)
        return len(found)

    async def flush(self) -> None:
        if not self.pending:
            return
        sightings, self.pending = list(self.pending.values()), {}
        try:
            new = await asyncio.to_thread(self.store.record, sightings)
        except Exception as err:  # a full disk stops the record, never DNS
            self.cannot_record.happened(err, len(sightings), "device sightings not recorded")
            return
        self.cannot_record.ended()
        by_mac = {s.mac: s for s in sightings}
        for mac in new:
            self.new_devices += 1
            log.info("discovery: new device %s", mac)
            seen = by_mac[mac]
            data = {"mac": mac, "hostname": seen.hostname or "", "vendor": seen.vendor or ""}
            self.emit(DEVICE_NEW, device=seen.address or "", data=data)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._capture is not None:
            await asyncio.to_thread(self._capture.stop)
        await self.flush()
        self.store.close()
