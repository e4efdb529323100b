"""When the self-tests run inside a running filterd: each child's (filterd.selftest.profiles)
when the rules in force change and daily, the household's (`filterd selftest`, its own
process) a little after start and daily, and both at once when someone asks
(filterd.selftest.requests: Health's button or `filterd selftest --children`).

The daemon's event watch (filterd.events.event_watch) calls `tick` every few seconds; the
results go to the event log, where Health reads them.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

from filterd.clock import Clock
from filterd.events.kinds import SELFTEST_FAILED, SELFTEST_RESULT
from filterd.lists.service import Blocklists
from filterd.rules.service import RulesService
from filterd.selftest import profiles
from filterd.selftest.requests import SelftestRequests

log = logging.getLogger(__name__)

SELFTEST_FIRST_DELAY = 120.0  # seconds after start before the first household self-test
SELFTEST_INTERVAL = 86_400.0  # then daily


class SelftestSchedule:
    """Runs each child's and the household's self-test when due or asked for."""

    def __init__(
        self,
        probe: profiles.ProfileProbe,
        requests: SelftestRequests,
        rules: RulesService,
        blocklists: Blocklists,
        emit: Callable[..., None],
        clock: Clock,
        config_path: Path | None,
    ) -> None:
        self.probe = probe
        self.requests = requests
        self.rules = rules
        self.blocklists = blocklists
        self.emit = emit
        self.clock = clock
        self.config_path = config_path  # None: no household self-test (it needs the file)
        self.started_at = time.time()
        self._probed_rules: object = None
        self._probed_at = 0.0
        self._asked = False  # someone is waiting for each child's result
        self._daily: asyncio.Task | None = None
        self._asked_household: asyncio.Task | None = None

    def start(self) -> None:
        if self.config_path is not None:
            self._daily = asyncio.create_task(self._household_daily())

    async def tick(self) -> None:
        """Called by the event watch: run what was asked for, then each child's if due."""
        if await self.requests.pending(self.started_at):
            self._run_now()
        await self._profiles_if_due()

    async def stop(self) -> None:
        for task in (self._daily, self._asked_household):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self.requests.close()

    async def _profiles_if_due(self) -> None:
        """Each child's self-test when the rules in force change and daily; its result goes
        to the event log, as `filterd selftest`'s does."""
        rules = self.rules.rules
        now = self.clock.time()
        if rules is None or (
            rules is self._probed_rules and now - self._probed_at < SELFTEST_INTERVAL
        ):
            return
        self._probed_rules, self._probed_at = rules, now
        started = time.time()
        checks = await self.probe.check(rules, self.rules.tracker, self.blocklists.settings)
        if not checks and self._asked:  # asked for: say why nothing was tested
            checks = [profiles.NOTHING_TO_TEST]
        self._asked = False
        if checks:
            result = profiles.summary(checks, started)
            kind = SELFTEST_RESULT if result["ok"] else SELFTEST_FAILED
            self.emit(kind, data=result, ts=self.clock.time())

    def _run_now(self) -> None:
        """Someone asked: each child's self-test at this tick, and the household's in its own
        process now."""
        log.info("filter self-test asked for: running it now")
        self._probed_rules, self._asked = None, True
        if self.config_path is not None and (
            self._asked_household is None or self._asked_household.done()
        ):
            self._asked_household = asyncio.create_task(self._household())

    async def _household_daily(self) -> None:
        """`filterd selftest` a little after start, then daily."""
        await asyncio.sleep(SELFTEST_FIRST_DELAY)
        while True:
            await self._household()
            await asyncio.sleep(SELFTEST_INTERVAL)

    async def _household(self) -> None:
        """`filterd selftest` as its own process (it asks this daemon real questions); its
        result goes to the event log and Health."""
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "filterd", "selftest", "--config", str(self.config_path),
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            try:
                await process.wait()
            except asyncio.CancelledError:  # filterd stops: the test stops with it
                process.kill()
                await process.wait()
                raise
        except OSError as err:
            log.warning("filter self-test could not run: %s", err)
