"""Devices in var/filterd.db: what is known about each MAC, its addresses, and new-device events.

Written by filterd (from a worker thread, never the event loop), read by the dashboard and by
`filterd devices list`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from filterd.db.statedb import ThreadDb

SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (
    mac TEXT PRIMARY KEY,       -- lower case, colon separated
    address TEXT,               -- the address it used last
    hostname TEXT,              -- DHCP option 12 or a lease file
    vendor TEXT,                -- from the IEEE registry; NULL for private addresses
    vendor_class TEXT,          -- DHCP option 60 (android-dhcp-13, MSFT 5.0...)
    fingerprint TEXT,           -- DHCP option 55, the parameters it asks for
    private INTEGER NOT NULL,   -- 1: a private (randomised, locally administered) address
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS device_addresses (
    mac TEXT NOT NULL,
    address TEXT NOT NULL,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL,
    PRIMARY KEY (mac, address)
);
CREATE TABLE IF NOT EXISTS device_events (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    mac TEXT NOT NULL,
    kind TEXT NOT NULL,         -- new_device
    detail TEXT NOT NULL DEFAULT ''
);
"""


class DeviceRow(NamedTuple):
    mac: str
    address: str | None
    hostname: str | None
    vendor: str | None
    vendor_class: str | None
    fingerprint: str | None
    private: bool
    first_seen: float
    last_seen: float


class Sighting(NamedTuple):
    """One device's news since the last write."""

    mac: str
    address: str | None
    hostname: str | None
    vendor: str | None
    vendor_class: str | None
    fingerprint: str | None
    private: bool
    seen: float
    addresses: tuple[str, ...] = ()  # every address seen since the last write


class DeviceStore(ThreadDb):
    """The devices tables; every method may block, so the daemon calls them in a thread."""

    schema = SCHEMA

    def known(self) -> list[DeviceRow]:
        with self.lock:
            rows = self._connect().execute(
                "SELECT mac, address, hostname, vendor, vendor_class, fingerprint, private,"
                " first_seen, last_seen FROM devices ORDER BY last_seen DESC"
            )
            return [DeviceRow(*row[:6], bool(row[6]), *row[7:]) for row in rows]

    def record(self, sightings: Iterable[Sighting]) -> list[str]:
        """Merge sightings; return the MACs seen for the first time (a new_device event each)."""
        new = []
        with self.lock:
            db = self._connect()
            for s in sightings:
                exists = db.execute("SELECT 1 FROM devices WHERE mac = ?", (s.mac,)).fetchone()
                if exists is None:
                    new.append(s.mac)
                    db.execute(
                        "INSERT INTO devices VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (s.mac, s.address, s.hostname, s.vendor, s.vendor_class,
                         s.fingerprint, int(s.private), s.seen, s.seen),
                    )  # fmt: skip
                    detail = s.hostname or s.vendor or ""
                    db.execute(
                        "INSERT INTO device_events (ts, mac, kind, detail) VALUES (?, ?, ?, ?)",
                        (s.seen, s.mac, "new_device", detail),
                    )
                else:
                    db.execute(
                        "UPDATE devices SET address = coalesce(?, address),"
                        " hostname = coalesce(?, hostname), vendor = coalesce(?, vendor),"
                        " vendor_class = coalesce(?, vendor_class),"
                        " fingerprint = coalesce(?, fingerprint), last_seen = max(last_seen, ?)"
                        " WHERE mac = ?",
                        (s.address, s.hostname, s.vendor, s.vendor_class, s.fingerprint,
                         s.seen, s.mac),
                    )  # fmt: skip
                for address in s.addresses or ((s.address,) if s.address else ()):
                    db.execute(
                        "INSERT INTO device_addresses VALUES (?, ?, ?, ?) ON CONFLICT (mac,"
                        " address) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)",
                        (s.mac, address, s.seen, s.seen),
                    )
            db.commit()
        return new
