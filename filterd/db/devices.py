"""Devices in var/filterd.db: what is known about each MAC, its addresses, and new-device events.

Written by filterd (from a worker thread, never the event loop), read by the dashboard (through
filterd.db.read) and by `filterd devices list`. The tables are defined in filterd.db.schema.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import NamedTuple

from filterd.db.thread_db import ThreadDb


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

    def known(self) -> list[DeviceRow]:
        with self.lock:
            rows = self._connect().execute(
                "SELECT mac, address, hostname, vendor, vendor_class, fingerprint, private,"
                " first_seen, last_seen FROM devices WHERE last_seen >= ? ORDER BY last_seen DESC",
                (self.retention.device_cutoff(),),
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
            self._prune_if_due(db)
            db.commit()
        return new

    def prune(self, db: sqlite3.Connection, now: float) -> None:
        gone = self.retention.device_cutoff(now)
        db.execute("DELETE FROM devices WHERE last_seen < ?", (gone,))
        db.execute("DELETE FROM device_addresses WHERE last_seen < ?", (gone,))
        db.execute("DELETE FROM device_events WHERE ts < ?", (self.retention.activity_cutoff(now),))
