"""The rules file inside the running daemon: load, watch, keep the last good rules, count usage.

The file is checked every half second, so a valid edit is answering queries within 2 s. An
invalid edit is refused with every problem (recorded in filterd.db's status table for the
dashboard, logged, counted) and the rules in force stay. A copy of the last good file is kept
beside the database, so even a restart with a broken file keeps the last good rules; with no
good rules at all every device gets the strict profile (fail closed, never open).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from filterd.catalogue.model import Catalogue
from filterd.clock import Clock
from filterd.db.statedb import StateDb
from filterd.events.kinds import RULES_REFUSED, ignore_event
from filterd.policy.safesearch import rewrites
from filterd.rules.child_state import CHILD_MAX_TTL, PROVISIONAL_TTL, ChildState
from filterd.rules.guards import sudden_emptying
from filterd.rules.identify import Identify
from filterd.rules.model import NO_SAFE_SEARCH, Profile, Rules
from filterd.rules.parse import (
    DEFAULT_TIMEZONE,
    MAX_RULES_BYTES,
    RulesError,
    parse_rules,
    parse_rules_bytes,
    preset_profile,
)
from filterd.rules.presets import STRICT_PRESET
from filterd.rules.schedule import usage_day
from filterd.rules.usage import UsageTracker, load_background

log = logging.getLogger(__name__)

WATCH_INTERVAL = 0.5  # seconds between looks at the rules file (changes apply within 2 s)
USAGE_FLUSH_INTERVAL = 5.0  # seconds between writes of usage counts to SQLite


def household_profile() -> Profile:
    """The household rules as a profile: only the floor applies (for provisional answers)."""
    return Profile("", "household", "", 0, safe_search=NO_SAFE_SEARCH, counts_usage=False)


def fail_closed_rules() -> Rules:
    """No good rules at all: every device gets the strict profile."""
    strict = preset_profile("unknown_devices", STRICT_PRESET, counts_usage=False)
    return Rules(ZoneInfo(DEFAULT_TIMEZONE), {}, (), strict)


class RulesService:
    """Owns the rules in force and answers `lookup(client)` for the policy stage."""

    def __init__(self, path: Path | None, state: StateDb, clock: Clock) -> None:
        self.path = path
        self.state = state
        self.clock = clock
        self.good_copy = state.path.parent / "rules.last-good.yaml"
        self.tracker = UsageTracker(load_background())
        self.rules: Rules | None = None
        self.problems: list[str] = []
        self.loads = {"ok": 0, "failed": 0}
        self.emit: Callable[..., None] = ignore_event  # the daemon's EventRecorder.emit
        self.neighbours: dict[str, str] = {}  # address -> MAC, kept current by discovery
        self.identify: Identify | None = None
        self._signature: tuple[int, int, int] | str | None = "not read yet"
        self._status: dict[str, Any] | None = None
        self._tasks: list[asyncio.Task] = []
        self._next_flush = 0.0
        self.unresolved: Callable[[str], None] = lambda address: None  # set by discovery
        # The app catalogue in force (None: the shipped one); apps named in rules must be in it.
        self.catalogue: Callable[[], Catalogue | None] = lambda: None  # set by the daemon

    def catalogue_changed(self, catalogue: Catalogue) -> None:
        """A new app catalogue: read the rules file again, checked against it."""
        self._signature = "not read yet"

    def lookup(self, client: str) -> ChildState | None:
        """The profile in force for a client address; None: household rules only."""
        identify = self.identify
        return None if identify is None else identify.lookup(client)

    def load(self) -> None:
        """At start: restore today's usage, then adopt the rules file (or the last good copy)."""
        if self.path is None:
            return
        yesterday = usage_day(self.clock.time() - 86_400, 0, self._zone())
        with contextlib.suppress(Exception):  # a damaged database must not stop DNS
            for day, child, key, minutes, last in self.state.usage_since(yesterday):
                self.tracker.restore(child, day, key, minutes, last)
        if self.check():
            return
        good = self._good_copy_rules()
        if good is not None:
            self._adopt(good)
            log.warning("rules: using the last good copy, %s", self.good_copy)
        else:
            self._adopt(fail_closed_rules())
            log.error("rules: no good rules file; every device gets the strict profile")

    def _good_copy_rules(self) -> Rules | None:
        """The last good rules kept beside the database (written whole by us, fsynced)."""
        try:
            return parse_rules(self.good_copy.read_text(encoding="utf-8"), self.catalogue())
        except (OSError, UnicodeDecodeError, RulesError):
            return None

    def configure(self, path: Path | None) -> None:
        """The config's `rules` key changed (SIGHUP)."""
        if path != self.path:
            self.path = path
            self._signature = "not read yet"
            if path is None:
                self.rules, self.identify = None, None
            else:
                self.check()

    def check(self) -> bool:
        """Reload now if the file changed; True when the rules in force came from the file."""
        if not self._changed():
            return not self.problems
        return self._take(*self._read())

    async def check_in_thread(self) -> None:
        """The watcher's check: reading and parsing a big file must not hold DNS."""
        if self._changed():
            self._take(*await asyncio.to_thread(self._read))

    def _changed(self) -> bool:
        if self.path is None:
            return False
        try:
            info = os.stat(self.path)
            signature: tuple[int, int, int] | None = (
                info.st_mtime_ns,
                info.st_size,
                info.st_ino,
            )
        except OSError:
            signature = None
        if signature == self._signature:
            return False  # unchanged (or still missing): nothing new to say
        self._signature = signature
        return True

    def _read(self) -> tuple[Rules | None, str, list[str], str]:
        """(rules, text, [], version) or (None, "", problems, version); never raises.

        `version` is the sha256 of the bytes read (the dashboard's version of the same file),
        so the dashboard can tell whether what it saved is what filterd applies.
        """
        version = ""
        try:
            with open(self.path, "rb") as file:  # type: ignore[arg-type]
                data = file.read(MAX_RULES_BYTES + 1)
            version = hashlib.sha256(data).hexdigest()
            # The size cap and the parser the dashboard uses, with the catalogue in force.
            rules = parse_rules_bytes(data, self.catalogue())
            return rules, data.decode("utf-8"), [], version
        except OSError as err:
            return None, "", [f"(file): cannot read: {err}"], version
        except RulesError as err:
            return None, "", err.problems, version
        except Exception as err:  # a parser bug must not cost the rules in force
            log.exception("rules: unexpected error reading %s", self.path)
            return None, "", [f"(file): could not be read as rules: {err!r}"], version

    def _take(self, rules: Rules | None, text: str, problems: list[str], version: str) -> bool:
        if rules is None:
            return self._refuse(problems, version)
        in_force = self.rules if self.rules is not None else self._good_copy_rules()
        problems = sudden_emptying(in_force, rules)
        if problems:
            return self._refuse(problems, version)
        self._adopt(rules)
        self.loads["ok"] += 1
        self.problems = []
        self._status = {
            "ok": True,
            "problems": [],
            "path": str(self.path),
            "version": version,
            "checked": time.time(),
        }
        self._keep_good_copy(text)
        log.info("rules loaded: %d children, %d devices", len(rules.children), len(rules.devices))
        return True

    def _refuse(self, problems: list[str], version: str = "") -> bool:
        self.loads["failed"] += 1
        self.problems = problems
        self._status = {
            "ok": False,
            "problems": problems,
            "path": str(self.path),
            "version": version,
            "checked": time.time(),
        }
        log.error("rules file refused, the rules in force stay:\n  %s", "\n  ".join(problems))
        self.emit(RULES_REFUSED, data={"problems": problems[:20], "path": str(self.path)})
        return False

    def _adopt(self, rules: Rules) -> None:
        def state(profile: Profile, max_ttl: int = CHILD_MAX_TTL) -> ChildState:
            return ChildState(
                profile, rules.timezone, self.tracker, rewrites(profile.safe_search), max_ttl
            )

        states = {child_id: state(profile) for child_id, profile in rules.children.items()}
        unknown = None if rules.unknown is None else state(rules.unknown)
        provisional = state(rules.unknown or household_profile(), PROVISIONAL_TTL)
        self.rules = rules
        self.identify = Identify(
            rules.devices, states, unknown, provisional, self.neighbours, self.unresolved
        )

    def _keep_good_copy(self, text: str) -> None:
        temporary = self.good_copy.with_suffix(".tmp")
        try:
            self.good_copy.parent.mkdir(parents=True, exist_ok=True)
            with open(temporary, "w", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())  # whole on disk before it replaces the old copy
            os.replace(temporary, self.good_copy)
        except OSError as err:
            log.warning("rules: cannot keep a copy of the good rules: %s", err)

    def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._watch()))

    async def _watch(self) -> None:
        refresh_clock = getattr(self.clock, "refresh", None)
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            try:
                await self._tick(refresh_clock)
            except Exception:  # the watcher must outlive any one bad moment
                log.exception("rules watcher")

    async def _tick(self, refresh_clock) -> None:
        """One look at the clock, the rules file, the neighbour table and the usage counts."""
        if refresh_clock is not None:
            refresh_clock()
        if self.path is None:
            return
        await self.check_in_thread()
        now = time.monotonic()
        # A new rules status is written at once: the dashboard shows whether what it saved
        # is in force, and must not say "not applied" for the seconds a flush would wait.
        if now >= self._next_flush or self._status is not None:
            self._next_flush = now + USAGE_FLUSH_INTERVAL
            await self.flush()

    def learn(self, address: str, mac: str) -> None:
        """Discovery saw this address used by this MAC: the device's rules follow it."""
        self.neighbours[address] = mac
        if self.identify is not None:
            self.identify.memo.clear()  # rare (addresses change by DHCP), and cheap

    async def flush(self) -> None:
        """Write changed usage counts and the rules status, in a thread.

        The counts are taken here, on the event loop, which is the only thread that changes
        them; old days leave memory once written.
        """
        rows = self.tracker.take_dirty()
        self.tracker.forget_before(usage_day(self.clock.time() - 2 * 86_400, 0, self._zone()))
        status, self._status = self._status, None
        if rows or status is not None:
            await asyncio.to_thread(self._write, rows, status)

    def _zone(self) -> ZoneInfo:
        return self.rules.timezone if self.rules else ZoneInfo(DEFAULT_TIMEZONE)

    def _write(self, rows: list[tuple[str, str, str, int, int]], status: dict | None) -> None:
        try:
            if rows:
                self.state.write_usage(rows)
            if status is not None:
                self.state.set_status("rules", status)
        except Exception as err:  # a full disk stops the record, never DNS
            log.warning("cannot write usage or status to %s: %s", self.state.path, err)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.flush()
        self.state.close()
