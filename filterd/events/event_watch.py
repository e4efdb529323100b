"""The running daemon's watch, every EVENT_WATCH_INTERVAL seconds: the events no single query
shows (every upstream failing, lists gone stale, a daily limit spent, a child's device gone
quiet), the heartbeat Health reads, and the self-tests when due.

Each check is its own small state machine (filterd.events.conditions, limits, quiet, heartbeat;
filterd.selftest.schedule); this loop only calls them in turn, and outlives any one failure.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time

from filterd.clock import Clock
from filterd.db.events import EventLog
from filterd.db.querylog_reader import QueryLogReader
from filterd.db.usage_status import UsageStatusDb
from filterd.discovery.service import Discovery
from filterd.events import limits
from filterd.events.conditions import Emit, ListsWatch, UpstreamWatch
from filterd.events.heartbeat import HEARTBEAT_INTERVAL, HEARTBEAT_KEY, Heartbeat
from filterd.events.kinds import LIMIT_SPENT
from filterd.events.quiet import QuietDevices
from filterd.forward.upstream import UpstreamClient
from filterd.lists.service import Blocklists
from filterd.metrics import Metrics
from filterd.querylog.queue import QueryLog
from filterd.rules.service import RulesService
from filterd.selftest.schedule import SelftestSchedule

log = logging.getLogger(__name__)

EVENT_WATCH_INTERVAL = 2.0  # seconds between checks of upstreams and lists
QUIET_CHECK_TICKS = 30  # quiet devices are looked for once a minute
QUIET_LOOK_BACK = 2 * 3600  # seconds of the query log read for each device's last question


class EventWatch:
    """Calls every periodic check in turn; `beat` also writes the last heartbeat on stop."""

    def __init__(
        self,
        emit: Emit,
        event_log: EventLog,
        clock: Clock,
        upstream_client: UpstreamClient,
        blocklists: Blocklists,
        rules: RulesService,
        discovery: Discovery,
        query_reader: QueryLogReader,
        usage_status_db: UsageStatusDb,
        metrics: Metrics,
        querylog: QueryLog,
        selftests: SelftestSchedule,
    ) -> None:
        self.clock = clock
        self.upstream_client = upstream_client
        self.blocklists = blocklists
        self.rules = rules
        self.discovery = discovery
        self.query_reader = query_reader
        self.usage_status_db = usage_status_db
        self.metrics = metrics
        self.querylog = querylog
        self.selftests = selftests
        self.upstream_watch = UpstreamWatch(emit)
        self.lists_watch = ListsWatch(emit)
        self.quiet = QuietDevices(emit, clock.time())
        self.heartbeat = Heartbeat(time.time())
        self._next_heartbeat = 0.0
        since = clock.time() - limits.LOOK_BACK
        try:
            earlier = event_log.of_kind_since(LIMIT_SPENT.name, since)
        except (sqlite3.Error, OSError) as err:  # DNS starts anyway; a limit may be said twice
            log.warning("cannot read today's spent limits from the event log: %s", err)
            earlier = []
        self.spent_limits = limits.SpentLimits(emit, earlier)

    async def run(self) -> None:
        """Until cancelled: every check, each tick."""
        ticks = 0
        while True:
            await asyncio.sleep(EVENT_WATCH_INTERVAL)
            ticks += 1
            try:
                await self._tick(ticks)
            except Exception:  # the watch must outlive any one failure
                log.exception("event watch")

    async def _tick(self, ticks: int) -> None:
        now = self.clock.monotonic()
        client = self.upstream_client
        health = client.health
        self.upstream_watch.check({e.label: health[e].answering(now) for e in client.endpoints})
        if now >= self._next_heartbeat:
            self._next_heartbeat = now + HEARTBEAT_INTERVAL
            await self.beat()
        settings = self.blocklists.settings.lists_update
        self.lists_watch.check(self.blocklists.status, settings.refresh_hours)
        self.spent_limits.check(self.rules.rules, self.rules.tracker, self.clock.time())
        await self.selftests.tick()
        if ticks % QUIET_CHECK_TICKS == 0:
            await self._check_quiet_devices()

    async def beat(self, stopped: bool = False) -> None:
        """Write the heartbeat row Health and the home page's banner read (in a thread)."""
        client = self.upstream_client
        row = self.heartbeat.row(
            time.time(),
            self.clock.monotonic(),
            self.metrics.answers.copy(),
            [(e, client.health[e]) for e in client.endpoints],
            self.querylog.dropped + self.querylog.writer_dropped,
            self.querylog.written,
            stopped,
        )
        try:
            await asyncio.to_thread(self.usage_status_db.set_status, HEARTBEAT_KEY, row)
        except (sqlite3.Error, OSError) as err:  # a full disk: Health will say not answering
            log.debug("cannot write the heartbeat: %s", err)

    async def _check_quiet_devices(self) -> None:
        now = self.clock.time()
        seen = dict(self.discovery.seen_at)
        if not seen:
            return
        asked = await asyncio.to_thread(self.query_reader.last_asked_since, now - QUIET_LOOK_BACK)

        def child_of(address: str) -> tuple[str, bool] | None:
            rules = self.rules.rules
            child = self.rules.lookup(address)
            if rules is None or child is None or child.profile.id not in rules.children:
                return None
            situation = child.now(now)
            return child.profile.id, not (situation.paused or situation.offline)

        self.quiet.check(now, seen, asked, child_of)
