"""The read API of filterd.db: everything the dashboard shows from it, typed, in one place.

The dashboard holds no SQL for filterd.db; it opens a `FilterdReader` per request. The file is
opened read-only and may be missing (filterd never ran) or partial (usage and status written, no
query log yet): every read answers empty for a table that is not there. A file of an older
schema version (filterd not yet started on it since an update) reads as empty, with
`not_upgraded` saying so, until filterd upgrades it; a damaged one likewise, with `damaged`.
Rows older than their retention (filterd.db.retention) are never returned, even before filterd
has pruned them. Reads of the query log filter on `ts` first and write BLOCKED_CONDITION and
HIGH_RISK_CONDITION literally, so SQLite uses filterd's partial indexes.
"""

from __future__ import annotations

import copy
import json
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from filterd.db import events
from filterd.db.devices import DeviceRow
from filterd.db.events import Event
from filterd.db.retention import Retention
from filterd.db.schema import (
    BLOCKED_CONDITION,
    EVENT_DAYS,
    HIGH_RISK_CONDITION,
    SCHEMA_VERSION,
    version_of,
)
from filterd.dns.query import BLOCKING_REASONS
from filterd.lists.categories import HIGH_RISK

QUARTER = 900  # seconds: every time zone's offset is a whole number of quarter hours
_HIGH_RISK = frozenset(HIGH_RISK)
_RISKY_BLOCK = f"({BLOCKED_CONDITION} AND {HIGH_RISK_CONDITION})"


class LogEntry(NamedTuple):
    """One blocked request from the query log; `id` is never given to another entry."""

    id: int
    ts: float
    client: str
    name: str
    reason: str
    categories: tuple[str, ...]
    child: str
    high_risk: bool
    service: str = ""  # the app (catalogue id) the name belongs to, "" for none


class BlockedSelection(NamedTuple):
    """Which blocked requests: a time window (unix seconds) and optional narrowing."""

    start: float
    end: float
    child: str = ""
    device: str = ""  # a client address
    category: str = ""  # a category id
    high_risk_only: bool = False
    skip_ids: tuple[int, ...] = ()  # leave these out (the reviewed ones, from dashboard.db)


class FilterdReader:
    """filterd.db, read-only, for one request (or one command)."""

    def __init__(self, path: Path, retention: Retention, now: float | None = None) -> None:
        self.retention = retention
        self._now = now
        self._tables: frozenset[str] = frozenset()
        self.db: sqlite3.Connection | None = None
        self.damaged = ""  # why filterd.db could not be read ('' when it could, or is absent)
        self.not_upgraded: int | None = None  # an older version's file, read as empty
        if path.exists():
            try:
                self._open(path)
            except (sqlite3.DatabaseError, OSError) as err:  # every page still opens
                self._damage(err)

    def _open(self, path: Path) -> None:
        self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        tables = frozenset(row[0] for row in self.db.execute("SELECT name FROM sqlite_master"))
        version = version_of(self.db)
        if tables and version < SCHEMA_VERSION:
            # An older release's tables (a column this reader asks for may be missing): read
            # as empty until filterd's next open upgrades the file (schema.migrate), and say so.
            self.not_upgraded = version
            self.db.close()
            self.db = None
            return
        self._tables = tables

    def _damage(self, err: Exception) -> None:
        """Read as empty from now on, and keep why, for Health to say."""
        self.damaged = str(err) or type(err).__name__
        if self.db is not None:
            self.db.close()
        self.db, self._tables = None, frozenset()

    def as_of(self, now: float) -> FilterdReader:
        """The same file, with retention judged at `now` (a page showing another moment)."""
        other = copy.copy(self)
        other._now = now
        return other

    @property
    def exists(self) -> bool:
        """Whether filterd has made filterd.db yet."""
        return self.db is not None

    def has(self, table: str) -> bool:
        return table in self._tables

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None

    def _rows(self, table: str, sql: str, params: Any = ()) -> list[tuple]:
        if self.db is None or table not in self._tables:
            return []
        try:
            return self.db.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as err:  # damaged inside (malformed): read as empty
            if type(err) is not sqlite3.DatabaseError:  # locked, a bad query: not damage
                raise
            self._damage(err)
            return []

    def _kept_since(self, since: float, now: float) -> float:
        return max(since, self.retention.activity_cutoff(now))

    def _now_or(self, now: float | None) -> float:
        return now if now is not None else self._now if self._now is not None else time.time()

    # --- blocked requests -----------------------------------------------------------------

    def _where(self, s: BlockedSelection) -> tuple[str, list]:
        clauses = ["ts >= ?", "ts < ?", BLOCKED_CONDITION]
        params: list = [self._kept_since(s.start, self._now_or(None)), s.end]
        if s.child:
            # unary + keeps SQLite off queries_child_ts (every query of the child's month) and
            # on the blocked indexes, which read the child's blocks among a few times as many
            clauses.append("+child = ?")
            params.append(s.child)
        if s.device:
            clauses.append("client = ?")
            params.append(s.device)
        if s.category:
            clauses.append("(',' || categories || ',') LIKE ?")
            params.append(f"%,{s.category},%")
        if s.skip_ids:  # one JSON parameter, however many: no host-parameter limit to reach
            clauses.append("id NOT IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(list(s.skip_ids)))
        return " AND ".join(clauses), params

    _ENTRY = "id, ts, client, name, reason, categories, child, service"

    @staticmethod
    def _entry(row: tuple) -> LogEntry:
        id_, ts, client, name, reason, categories, child, service = row
        listed = tuple(c for c in categories.split(",") if c)
        risky = any(c in _HIGH_RISK for c in listed)
        return LogEntry(id_, ts, client, name, reason, listed, child, risky, service)

    def blocked_page(
        self, selection: BlockedSelection, page: int, size: int
    ) -> tuple[list[LogEntry], bool]:
        """One page of blocked requests, high-risk first, newest first within each; and
        whether a next page exists."""
        where, params = self._where(selection)
        wanted, offset = size + 1, (max(1, page) - 1) * size
        # High-risk rows first (their own small index), then the rest newest first: each part
        # reads its rows in index order and stops at the page, never sorting a month of blocks.
        rows = self._rows(
            "queries",
            f"SELECT {self._ENTRY} FROM queries WHERE {where} AND {HIGH_RISK_CONDITION}"
            " ORDER BY ts DESC, id DESC LIMIT ? OFFSET ?",
            (*params, wanted, offset),
        )
        if self.has("queries") and len(rows) < wanted and not selection.high_risk_only:
            rest_offset = 0
            if not rows:  # the page starts after the last high-risk row: skip past them all
                risky = self._rows(
                    "queries",
                    f"SELECT count(*) FROM queries WHERE {where} AND {HIGH_RISK_CONDITION}",
                    params,
                )[0][0]
                rest_offset = max(0, offset - risky)
            rows += self._rows(
                "queries",
                f"SELECT {self._ENTRY} FROM queries"
                f" WHERE {where} AND NOT {HIGH_RISK_CONDITION}"
                " ORDER BY ts DESC, id DESC LIMIT ? OFFSET ?",
                (*params, wanted - len(rows), rest_offset),
            )
        return [self._entry(row) for row in rows[:size]], len(rows) > size

    def blocked_all(self, selection: BlockedSelection) -> Iterator[LogEntry]:
        """Every blocked request selected, in page order (for the export)."""
        if self.db is None or not self.has("queries"):
            return
        where, params = self._where(selection)
        parts = [HIGH_RISK_CONDITION]
        if not selection.high_risk_only:
            parts.append(f"NOT {HIGH_RISK_CONDITION}")
        for part in parts:
            if self.db is None:
                return
            try:  # a damaged file reads as empty from where the damage is, as in _rows
                for row in self.db.execute(
                    f"SELECT {self._ENTRY} FROM queries WHERE {where} AND {part}"
                    " ORDER BY ts DESC, id DESC",
                    params,
                ):
                    yield self._entry(row)
            except sqlite3.DatabaseError as err:
                if type(err) is not sqlite3.DatabaseError:  # locked, a bad query: not damage
                    raise
                self._damage(err)
                return

    def blocked_entries(self, ids: list[int]) -> list[LogEntry]:
        """Those of `ids` that are blocked requests still kept, oldest first."""
        found: list[LogEntry] = []
        marks = ",".join("?" * len(BLOCKING_REASONS))
        cutoff = self.retention.activity_cutoff(self._now_or(None))
        for start in range(0, len(ids), 500):  # under SQLite's host-parameter limit
            chunk = ids[start : start + 500]
            found += map(
                self._entry,
                self._rows(
                    "queries",
                    f"SELECT {self._ENTRY} FROM queries"
                    f" WHERE id IN ({','.join('?' * len(chunk))})"
                    f" AND reason IN ({marks}) AND ts >= ?",
                    (*chunk, *map(str, BLOCKING_REASONS), cutoff),
                ),
            )
        return sorted(found, key=lambda e: e.id)

    def high_risk_ids(self, start: float, end: float) -> list[int]:
        where, params = self._where(BlockedSelection(start, end))
        rows = self._rows(
            "queries", f"SELECT id FROM queries WHERE {where} AND {HIGH_RISK_CONDITION}", params
        )
        return [row[0] for row in rows]

    # --- a child's activity ---------------------------------------------------------------

    def _child_where(self, child: str, since: float, hide_high_risk: bool) -> tuple[str, tuple]:
        """A child's queries since `since`; without the high-risk blocks for those who may not
        see them (filterd.db.read callers decide who, per role)."""
        where = "child = ? AND ts >= ?"
        if hide_high_risk:
            where += f" AND NOT {_RISKY_BLOCK}"
        return where, (child, self._kept_since(since, self._now_or(None)))

    def quarter_hour_counts(
        self, child: str, start: float, end: float, *, hide_high_risk: bool
    ) -> list[tuple[int, int]]:
        """(quarter-hour number since the epoch, queries) for a child between start and end."""
        where, params = self._child_where(child, start, hide_high_risk)
        return self._rows(
            "queries",
            f"SELECT CAST(ts / {QUARTER} AS INTEGER) AS quarter, count(*) FROM queries"
            f" WHERE {where} AND ts < ? GROUP BY quarter",
            (*params, end),
        )

    def category_counts(
        self, child: str, since: float, *, hide_high_risk: bool, until: float | None = None
    ) -> dict[str, tuple[int, int]]:
        """{category: (allowed, blocked)} queries since `since` (and before `until`, for a
        period that has ended, such as a digest's day); a query counts in each."""
        where, params = self._child_where(child, since, hide_high_risk)
        if until is not None:
            where, params = f"{where} AND ts < ?", (*params, until)
        totals: dict[str, list[int]] = {}
        rows = self._rows(
            "queries",
            f"SELECT categories, {BLOCKED_CONDITION} AS blocked, count(*) FROM queries"
            f" WHERE {where} AND categories != '' GROUP BY categories, blocked",
            params,
        )
        for categories, blocked, count in rows:
            for category in filter(None, categories.split(",")):
                totals.setdefault(category, [0, 0])[1 if blocked else 0] += count
        return {category: (a, b) for category, (a, b) in totals.items()}

    def name_counts(self, child: str, since: float, *, hide_high_risk: bool) -> Counter[str]:
        """Queries per name since `since`."""
        where, params = self._child_where(child, since, hide_high_risk)
        rows = self._rows(
            "queries",
            f"SELECT name, count(*) FROM queries WHERE {where} GROUP BY name",
            params,
        )
        return Counter(dict(rows))

    def recent_counts(
        self, child: str, now: float, online_window: float, *, hide_high_risk: bool
    ) -> tuple[int, int]:
        """(queries in the last `online_window` seconds, blocked in the last 24 h)."""
        online = self._rows(
            "queries",
            "SELECT count(*) FROM queries WHERE child = ? AND ts > ?",
            (child, now - online_window),
        )
        hidden = f" AND NOT {HIGH_RISK_CONDITION}" if hide_high_risk else ""
        # +child: read the day's blocked rows (queries_blocked_ts), not all the child's queries
        blocked = self._rows(
            "queries",
            f"SELECT count(*) FROM queries WHERE ts > ? AND {BLOCKED_CONDITION} AND +child = ?"
            + hidden,
            (self._kept_since(now - 86_400, now), child),
        )
        return (online[0][0] if online else 0), (blocked[0][0] if blocked else 0)

    def last_block(self, client: str, name: str, since: float) -> LogEntry | None:
        """The latest blocked answer to `client` for `name` after `since`: filterd's own
        record of why, which the block page shown for that name explains."""
        rows = self._rows(
            "queries",
            f"SELECT {self._ENTRY} FROM queries"
            f" WHERE ts > ? AND {BLOCKED_CONDITION} AND client = ? AND name = ?"
            " ORDER BY ts DESC LIMIT 1",
            (self._kept_since(since, self._now_or(None)), client, name.lower().rstrip(".")),
        )
        return self._entry(rows[0]) if rows else None

    # --- usage, status, devices -----------------------------------------------------------

    def usage_on(self, child: str, day: str) -> dict[str, int]:
        """Minutes by category id (and 'overall') a child used on a usage day."""
        if day < self.retention.usage_cutoff(self._now_or(None)):
            return {}
        rows = self._rows(
            "usage", "SELECT category, minutes FROM usage WHERE child = ? AND day = ?", (child, day)
        )
        return dict(rows)

    def minutes_by_day(self, child: str, category: str, first_day: str) -> dict[str, int]:
        """Minutes per usage day from `first_day` on."""
        first_day = max(first_day, self.retention.usage_cutoff(self._now_or(None)))
        rows = self._rows(
            "usage",
            "SELECT day, minutes FROM usage WHERE child = ? AND category = ? AND day >= ?",
            (child, category, first_day),
        )
        return dict(rows)

    def rules_status(self) -> dict | None:
        """filterd's last check of the rules file (ok, problems, checked, updated), if any."""
        rows = self._rows("status", "SELECT value, updated FROM status WHERE key = 'rules'")
        if not rows:
            return None
        value, updated = rows[0]
        return {**json.loads(value), "updated": updated}

    def heartbeat(self) -> dict | None:
        """filterd's last heartbeat (filterd.events.heartbeat), with `updated`: when it was
        written; None before filterd first wrote one."""
        rows = self._rows("status", "SELECT value, updated FROM status WHERE key = 'heartbeat'")
        if not rows:
            return None
        value, updated = rows[0]
        return {**json.loads(value), "updated": updated}

    def clock_status(self) -> dict | None:
        """filterd's last word on the clock (synchronised, using, system_time, rules_time)."""
        rows = self._rows("status", "SELECT value, updated FROM status WHERE key = 'clock'")
        if not rows:
            return None
        value, updated = rows[0]
        return {**json.loads(value), "updated": updated}

    def devices_seen(self) -> list[DeviceRow]:
        """Every device filterd has seen and still keeps, most recently seen first."""
        rows = self._rows(
            "devices",
            "SELECT mac, address, hostname, vendor, vendor_class, fingerprint, private,"
            " first_seen, last_seen FROM devices WHERE last_seen >= ? ORDER BY last_seen DESC",
            (self.retention.device_cutoff(self._now_or(None)),),
        )
        return [DeviceRow(*row[:6], bool(row[6]), *row[7:]) for row in rows]

    def devices_at(self, addresses: list[str]) -> dict[str, DeviceRow]:
        """{address: the device discovery saw use it most recently} for these addresses (the
        blocked log names a device, not its address); an address nobody was seen at is left
        out."""
        found: dict[str, DeviceRow] = {}
        cutoff = self.retention.device_cutoff(self._now_or(None))
        wanted = sorted(set(addresses))
        for start in range(0, len(wanted), 500):  # under SQLite's host-parameter limit
            chunk = wanted[start : start + 500]
            if not (self.has("device_addresses") and self.has("devices")):
                break
            rows = self._rows(
                "device_addresses",
                "SELECT a.address, d.mac, d.address, d.hostname, d.vendor, d.vendor_class,"
                " d.fingerprint, d.private, d.first_seen, d.last_seen"
                " FROM device_addresses a JOIN devices d ON d.mac = a.mac"
                f" WHERE a.address IN ({','.join('?' * len(chunk))}) AND a.last_seen >= ?"
                " ORDER BY a.last_seen",
                (*chunk, cutoff),
            )
            for row in rows:  # oldest first: the latest user of an address wins
                found[row[0]] = DeviceRow(*row[1:7], bool(row[7]), *row[8:])
        return found

    def neighbours_of(self, address: str) -> dict[str, str]:
        """{address: MAC} for every address discovery saw the device now at `address` use:
        what filterd's identify needs to recognise that one client (the block page)."""
        rows = self._rows(
            "device_addresses",
            "SELECT address, mac FROM device_addresses WHERE last_seen >= ? AND mac IN"
            " (SELECT mac FROM device_addresses WHERE address = ?"
            " ORDER BY last_seen DESC LIMIT 1)",
            (self.retention.device_cutoff(self._now_or(None)), address),
        )
        return dict(rows)

    # --- the event log ----------------------------------------------------------------------

    def newest_event_id(self) -> int:
        """The id of the newest event (0 when there is none, or no event log yet)."""
        rows = self._rows("events", "SELECT coalesce(max(id), 0) FROM events")
        return int(rows[0][0]) if rows else 0

    def events_after(self, after: int, limit: int = 1000) -> list[Event]:
        """Events with an id above `after` still within their retention, oldest first."""
        kept = self._now_or(None) - EVENT_DAYS * 86_400
        rows = self._rows(
            "events",
            f"SELECT {events.COLUMNS} FROM events WHERE id > ? AND ts >= ? ORDER BY id LIMIT ?",
            (after, kept, limit),
        )
        return [Event(*row[:8], json.loads(row[8])) for row in rows]

    def events_of(self, kinds: tuple[str, ...]) -> list[Event]:
        """Every kept event of these kinds, oldest first."""
        kept = self._now_or(None) - EVENT_DAYS * 86_400
        marks = ", ".join("?" * len(kinds))
        rows = self._rows(
            "events",
            f"SELECT {events.COLUMNS} FROM events WHERE kind IN ({marks}) AND ts >= ? ORDER BY id",
            (*kinds, kept),
        )
        return [Event(*row[:8], json.loads(row[8])) for row in rows]

    def latest_event(self, kinds: tuple[str, ...], scope: str | None = None) -> Event | None:
        """The newest event of any of these kinds still kept (None when there is none); with
        `scope`, only events whose data has that `scope` ("" for those with none)."""
        kept = self._now_or(None) - EVENT_DAYS * 86_400
        marks = ", ".join("?" * len(kinds))
        scoped = "" if scope is None else " AND coalesce(json_extract(data, '$.scope'), '') = ?"
        rows = self._rows(
            "events",
            f"SELECT {events.COLUMNS} FROM events WHERE kind IN ({marks}) AND ts >= ?{scoped}"
            " ORDER BY id DESC LIMIT 1",
            (*kinds, kept) + (() if scope is None else (scope,)),
        )
        return Event(*rows[0][:8], json.loads(rows[0][8])) if rows else None
