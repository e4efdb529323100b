"""The rules in force inside the running daemon: adopt a good file, refuse a bad one.

One job each, in this package: watch.py notices the file changed and reads it (and keeps the
last good copy), identify.py answers address -> child, neighbours.py holds address -> MAC,
usage_writer.py writes usage and the rules status to filterd.db. This service decides which rules
are in force: a valid edit is answering queries within 2 s; an invalid one is refused with
every problem (recorded for the dashboard, logged, counted, raised as an event) and the rules
in force stay. With no good rules at all every device gets the strict profile (fail closed,
never open).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from filterd.catalogue.model import Catalogue
from filterd.clock import Clock
from filterd.db.usage_status import UsageStatusDb
from filterd.events.kinds import RULES_REFUSED, ignore_event
from filterd.rules.child_state import ChildState
from filterd.rules.guards import sudden_emptying
from filterd.rules.identify import Identify, identify_for
from filterd.rules.model import Rules
from filterd.rules.neighbours import Neighbours
from filterd.rules.parse import DEFAULT_TIMEZONE, preset_profile
from filterd.rules.presets import STRICT_PRESET
from filterd.rules.usage import UsageTracker, load_background
from filterd.rules.usage_writer import UsageAndStatus
from filterd.rules.watch import Reading, RulesFileWatch

log = logging.getLogger(__name__)

WATCH_INTERVAL = 0.5  # seconds between looks at the rules file (changes apply within 2 s)


def fail_closed_rules() -> Rules:
    """No good rules at all: every device gets the strict profile."""
    strict = preset_profile("unknown_devices", STRICT_PRESET, counts_usage=False)
    return Rules(ZoneInfo(DEFAULT_TIMEZONE), {}, (), strict)


class RulesService:
    """Owns the rules in force and answers `lookup(client)` for the policy stage."""

    def __init__(self, path: Path | None, state: UsageStatusDb, clock: Clock) -> None:
        self.clock = clock
        self.file = RulesFileWatch(path, state.path.parent / "rules.last-good.yaml")
        self.tracker = UsageTracker(load_background())
        self.record = UsageAndStatus(state, self.tracker)
        self.neighbours = Neighbours()
        self.neighbours.changed = self._addresses_changed
        self.rules: Rules | None = None
        self.problems: list[str] = []
        self.loads = {"ok": 0, "failed": 0}
        self.emit: Callable[..., None] = ignore_event  # the daemon's EventRecorder.emit
        # (rules before, rules now, file version) after each change is applied: the daemon
        # records edits made outside the dashboard (filterd.events.hand_edits)
        self.adopted: Callable[[Rules, Rules, str], None] = ignore_event
        self.identify: Identify | None = None
        self._tasks: list[asyncio.Task] = []
        self.unresolved: Callable[[str], None] = lambda address: None  # set by discovery
        # The app catalogue in force (None: the shipped one); apps named in rules must be in it.
        self.catalogue: Callable[[], Catalogue | None] = lambda: None  # set by the daemon

    @property
    def path(self) -> Path | None:
        return self.file.path

    def catalogue_changed(self, catalogue: Catalogue) -> None:
        """A new app catalogue: read the rules file again, checked against it."""
        self.file.forget()

    def apps_in_force_missing(self, catalogue: Catalogue) -> list[str]:
        """Why a new catalogue cannot replace the one in force: every app the rules in force
        choose for a child that it no longer has. Swapping it in would forget that app's
        names, so a blocked, scheduled or limited app would be answered."""
        rules = self.rules
        if rules is None:
            return []
        named: dict[str, list[str]] = {}
        for child_id, profile in rules.children.items():
            for service_id in profile.service_rules:
                if service_id not in catalogue.services:
                    named.setdefault(service_id, []).append(child_id)
        return [
            f"services.{service_id}: missing, but the rules in force choose it for"
            f" {', '.join(children)}; take it out of their rules first"
            for service_id, children in sorted(named.items())
        ]

    def lookup(self, client: str) -> ChildState | None:
        """The profile in force for a client address; None: household rules only."""
        identify = self.identify
        return None if identify is None else identify.lookup(client)

    def learn(self, address: str, mac: str) -> None:
        """Discovery saw this address used by this MAC: the device's rules follow it."""
        self.neighbours.learn(address, mac)

    def _addresses_changed(self) -> None:
        if self.identify is not None:
            self.identify.memo.clear()

    def load(self) -> None:
        """At start: restore today's usage, then adopt the rules file (or the last good copy)."""
        if self.path is None:
            return
        self.record.restore(self.clock.time(), self._zone())
        if self.check():
            return
        good = self.file.good_rules(self.catalogue())
        if good is not None:
            self._adopt(good)
            log.warning("rules: using the last good copy, %s", self.file.good_copy)
        else:
            self._adopt(fail_closed_rules())
            log.error("rules: no good rules file; every device gets the strict profile")

    def configure(self, path: Path | None) -> None:
        """The config's `rules` key changed (SIGHUP)."""
        if path != self.path:
            self.file.path = path
            self.file.forget()
            if path is None:
                self.rules, self.identify = None, None
            else:
                self.check()

    def check(self) -> bool:
        """Reload now if the file changed; True when the rules in force came from the file."""
        if not self.file.changed():
            return not self.problems
        return self._take(self.file.read(self.catalogue()))

    async def check_in_thread(self) -> None:
        """The watcher's check: reading and parsing a big file must not hold DNS."""
        if self.file.changed():
            self._take(await asyncio.to_thread(self.file.read, self.catalogue()))

    def _take(self, reading: Reading) -> bool:
        rules, version = reading.rules, reading.version
        if rules is None:
            return self._refuse(reading.problems, version)
        in_force = self.rules if self.rules is not None else self.file.good_rules(self.catalogue())
        problems = sudden_emptying(in_force, rules)
        if problems:
            return self._refuse(problems, version)
        self._adopt(rules)
        if in_force is not None:
            self.adopted(in_force, rules, version)  # a hand edit is recorded from there
        self.loads["ok"] += 1
        self.problems = []
        self.record.status(True, [], str(self.path), version)
        self.file.keep_good(reading.text)
        log.info("rules loaded: %d children, %d devices", len(rules.children), len(rules.devices))
        return True

    def _refuse(self, problems: list[str], version: str = "") -> bool:
        self.loads["failed"] += 1
        self.problems = problems
        self.record.status(False, problems, str(self.path), version)
        log.error("rules file refused, the rules in force stay:\n  %s", "\n  ".join(problems))
        self.emit(RULES_REFUSED, data={"problems": problems[:20], "path": str(self.path)})
        return False

    def _adopt(self, rules: Rules) -> None:
        self.rules = rules
        self.identify = identify_for(rules, self.tracker, self.neighbours.macs, self.unresolved)

    def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._watch()))

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            try:
                await self._tick()
            except Exception:  # the watcher must outlive any one bad moment
                log.exception("rules watcher")

    async def _tick(self) -> None:
        """One look at the rules file and the usage counts."""
        if self.path is None:
            return
        await self.check_in_thread()
        if self.record.due():
            await self.flush()

    async def flush(self) -> None:
        """Write changed usage counts and the rules status, in a thread."""
        await self.record.flush(self.clock.time(), self._zone())

    def _zone(self) -> ZoneInfo:
        return self.rules.timezone if self.rules else ZoneInfo(DEFAULT_TIMEZONE)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.flush()
        self.record.close()
