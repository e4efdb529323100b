"""Assemble filterd from a Config, run it, reload it on SIGHUP, stop it cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import resource
import signal
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import start_http_server
from prometheus_client.core import CounterMetricFamily, Metric

from filterd import __version__
from filterd.chain import build_chain
from filterd.clock import Clock, clock_from_environment, follow
from filterd.config import Config, ConfigError, load_config
from filterd.db.devices import DeviceStore
from filterd.db.events import EventLog
from filterd.db.querylog_reader import QueryLogReader
from filterd.db.retention import Retention
from filterd.db.usage_status import UsageStatusDb
from filterd.discovery import metrics as discovery_metrics
from filterd.discovery.service import Discovery
from filterd.events.conditions import removed_illegal_sources
from filterd.events.event_watch import EventWatch
from filterd.events.hand_edits import HandEdits
from filterd.events.kinds import LISTS_ILLEGAL_SOURCE_REMOVED, SYSTEM_STARTED
from filterd.events.recorder import EventRecorder
from filterd.forward import metrics as forward_metrics
from filterd.forward.cache import AnswerCache
from filterd.forward.metrics import ForwardCounters
from filterd.forward.upstream import Endpoint, UpstreamClient
from filterd.forward.upstream_stage import RebindingPolicy
from filterd.lists import metrics as lists_metrics
from filterd.lists.service import Blocklists
from filterd.metrics import Metrics, MetricsCollector, labelled, make_registry
from filterd.policy.box_addresses import box_addresses
from filterd.querylog import metrics as querylog_metrics
from filterd.querylog.queue import QueryLog
from filterd.rules import metrics as rules_metrics
from filterd.rules.changes import Risk
from filterd.rules.service import RulesService
from filterd.rules.trusted_time import TrustedClock, sync_source_from_environment
from filterd.selftest import profiles
from filterd.selftest.marker import OwnProbe
from filterd.selftest.requests import SelftestRequests
from filterd.selftest.schedule import SelftestSchedule
from filterd.serve import metrics as serve_metrics
from filterd.serve.acl import ClientAcl
from filterd.serve.metrics import ServeCounters
from filterd.serve.ratelimit import RateLimiter
from filterd.serve.sdnotify import notify
from filterd.serve.sockets import TcpServer, UdpServer, bind_tcp, bind_udp

log = logging.getLogger(__name__)


class Daemon:
    """One running filterd: sockets, chain, query log and metrics endpoint."""

    def __init__(
        self, config: Config, config_path: Path | None = None, clock: Clock | None = None
    ) -> None:
        self.config = config
        self.config_path = config_path
        # Rules are judged by a time that survives a Pi's clock starting in 1970 after a power
        # cut (filterd.rules.trusted_time); a clock a test passes in is used as it is.
        self.clock = clock or TrustedClock(
            clock_from_environment(),
            sync_source_from_environment(),
            config.database.with_name(config.database.stem + ".last-good-time.json"),
        )
        self.metrics = Metrics()  # answers and their latency, counted by the log stage
        self.serve_counters = ServeCounters()
        self.forward_counters = ForwardCounters()
        self.reloads: Counter[str] = Counter()  # config reloads: ok / failed
        self.events = EventRecorder(EventLog(config.database, "filterd"))
        self.cache = AnswerCache(config.cache)
        self.querylog = QueryLog(
            config.database,
            config.query_log.retention_days,
            config.query_log.queue_size,
            offered=self.metrics.loggable_total,
        )
        self.upstream_client = UpstreamClient(
            [Endpoint(u.host, u.port) for u in config.upstreams],
            config.upstream_timeout,
            self.clock,
            self.forward_counters.upstream_error,
        )
        self.blocklists = Blocklists(config.blocklists, config_path)
        retention = Retention(config.query_log.retention_days)
        self.usage_status_db = UsageStatusDb(config.database, retention)
        if isinstance(self.clock, TrustedClock):
            self.clock.on_change = self._clock_changed
            self._clock_changed(self.clock.status())
        self.device_store = DeviceStore(config.database, retention)
        self.rules = RulesService(config.rules, self.usage_status_db, self.clock)
        self.discovery = Discovery(
            config.discovery, self.device_store, self.rules.learn, self.clock
        )
        self.rules.unresolved = self.discovery.resolve_soon
        self.rules.emit = self.discovery.emit = self.events.emit
        apps = self.blocklists.apps
        risk = Risk(
            self.blocklists.store.categories,
            lambda app: getattr(apps.current.services.get(app), "category", None),
        )
        self.hand_edits = HandEdits(self.events.store, self.events.emit, self.clock.time, risk)
        self.rules.adopted = self.hand_edits.adopted
        self.query_reader = QueryLogReader(config.database)
        apps = self.blocklists.apps
        self.rules.catalogue = lambda: apps.current if apps.current.services else None
        apps.swapped = self.rules.catalogue_changed
        apps.unusable = self.rules.apps_in_force_missing
        self.acl = ClientAcl(config.allow_clients)
        self.limiter = RateLimiter(config.rate_limit.queries_per_second, config.rate_limit.burst)
        self.chain = build_chain(
            acl=self.acl,
            limiter=self.limiter,
            upstream_client=self.upstream_client,
            limits=config.cache,
            rebinding=_rebinding(config),
            cache=self.cache,
            blocklists=self.blocklists,
            rules=self.rules,
            querylog=self.querylog,
            metrics=self.metrics,
            serve_counters=self.serve_counters,
            forward_counters=self.forward_counters,
            clock=self.clock,
            box_names=_box_names(config),
            own_probe=OwnProbe(config.database),
        )
        self.handle = self.chain.handle
        self.selftests = SelftestSchedule(
            profiles.ProfileProbe(
                self.chain.below_policy,
                self.blocklists,
                self.serve_counters,
                self.clock,
            ),
            SelftestRequests(config.database),
            self.rules,
            self.blocklists,
            self.events.emit,
            self.clock,
            config_path,
        )
        self.watch = EventWatch(
            self.events.emit,
            self.events.store,
            self.clock,
            self.upstream_client,
            self.blocklists,
            self.rules,
            self.discovery,
            self.query_reader,
            self.usage_status_db,
            self.metrics,
            self.querylog,
            self.selftests,
        )
        self.tcp = TcpServer(self.handle, self.acl, config.tcp, self.serve_counters)
        self._transports: list[asyncio.BaseTransport] = []
        self._tcp_servers: list[asyncio.AbstractServer] = []
        self._metrics_server = None
        self._stopping = asyncio.Event()
        self._watch_task: asyncio.Task | None = None
        self._clock_task: asyncio.Task | None = None

    async def start(self) -> None:
        """Bind every socket (failing loudly if one cannot be bound), then announce readiness."""
        loop = asyncio.get_running_loop()
        raise_file_limit()
        self.blocklists.load()  # before the first socket: never a moment with no list
        self.rules.load()  # likewise: never a moment when a child's rules are not in force
        for address in self.config.listen:
            try:
                udp = bind_udp(address.host, address.port)
                tcp = bind_tcp(address.host, address.port)
            except OSError as err:
                raise OSError(err.errno, f"cannot listen on {address}: {err.strerror}") from None
            transport, _ = await loop.create_datagram_endpoint(
                lambda: UdpServer(self.handle), sock=udp
            )
            self._transports.append(transport)
            self._tcp_servers.append(await asyncio.start_server(self.tcp.serve, sock=tcp))
        self._clock_task = asyncio.create_task(follow(self.clock))  # FILTERD_CLOCK_FILE
        self.querylog.start()
        self.blocklists.start()
        self.rules.start()
        self.discovery.start()
        self.events.emit(SYSTEM_STARTED, data={"version": __version__})
        self._watch_task = asyncio.create_task(self.watch.run())
        self.selftests.start()
        if self.config.metrics is not None:
            self._start_metrics()
        gc.freeze()  # long-lived objects out of the collector's way: no multi-ms pauses
        listening = ", ".join(str(a) for a in self.config.listen)
        log.info(
            "filterd answering on %s, forwarding to %s",
            listening,
            ", ".join(str(u) for u in self.config.upstreams),
        )
        notify("READY=1")

    def metrics_collector(self) -> MetricsCollector:
        """Every package's metric families, read from the live components at scrape time."""
        m = self.metrics
        return MetricsCollector(
            lambda: querylog_metrics.families(m, self.querylog),
            lambda: serve_metrics.families(self.serve_counters),
            lambda: forward_metrics.families(
                self.forward_counters, self.cache, self.upstream_client, self.clock
            ),
            lambda: lists_metrics.families(self.blocklists),
            lambda: rules_metrics.families(self.rules),
            lambda: discovery_metrics.families(self.discovery),
            lambda: reload_families(self.reloads),
        )

    def _start_metrics(self) -> None:
        collector = self.metrics_collector()
        address = self.config.metrics
        self._metrics_server, _ = start_http_server(
            address.port, address.host, registry=make_registry(collector)
        )

    async def run(self) -> None:
        """Serve until SIGTERM/SIGINT; SIGHUP reloads the config file."""
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self._stopping.set)
        loop.add_signal_handler(signal.SIGINT, self._stopping.set)
        loop.add_signal_handler(signal.SIGHUP, self.reload)
        await self.start()
        try:
            await self._stopping.wait()
        finally:
            await self.stop()

    def reload(self) -> bool:
        """Re-read the config file; a bad one is refused and the running config stays."""
        if self.config_path is None:
            return False
        notify("RELOADING=1")
        try:
            new = load_config(self.config_path)
        except ConfigError as err:
            self.reloads["failed"] += 1
            log.error(
                "config reload refused, keeping the running config:\n  %s",
                "\n  ".join(err.problems),
            )
            notify("READY=1")
            return False
        self.apply(new)
        self.reloads["ok"] += 1
        notify("READY=1")
        return True

    def _clock_changed(self, status: dict) -> None:
        """Say when rules stop or start being judged by the system clock (Health shows it)."""
        if status["using"] == "last_good":
            log.warning("the system clock is not synchronised; rules use the last good time")
        elif not status["synchronised"]:
            log.info("the system clock is not synchronised; rules use it (nothing later known)")
        try:
            self.usage_status_db.set_status("clock", status)
        except (sqlite3.Error, OSError) as err:  # DNS goes on; Health just says less
            log.warning("cannot record the clock's state: %s", err)

    def apply(self, new: Config) -> None:
        """Adopt what can change live; say which settings need a restart."""
        old = self.config
        removed = removed_illegal_sources(old.blocklists.lists, new.blocklists.lists)
        if removed:
            log.warning("config: illegal-content sources removed: %s", ", ".join(removed))
            self.events.emit(LISTS_ILLEGAL_SOURCE_REMOVED, data={"sources": removed})
        for key in ("listen", "database", "metrics", "discovery"):
            if getattr(old, key) != getattr(new, key):
                log.warning("config: %s changed; restart filterd to apply it", key)
        self.upstream_client.configure(
            [Endpoint(u.host, u.port) for u in new.upstreams], new.upstream_timeout
        )
        if new.cache != old.cache or new.rebinding != old.rebinding:
            self.cache.clear()  # answers cleaned or clamped under the old rules must go
        self.cache.resize(new.cache)
        self.chain.upstream.limits = new.cache
        self.chain.upstream.rebinding = _rebinding(new)
        self.chain.box_names.configure(*_box_names(new))
        self.acl.configure(new.allow_clients)
        self.limiter.configure(new.rate_limit.queries_per_second, new.rate_limit.burst)
        self.tcp.limits = new.tcp
        if new.query_log.retention_days != old.query_log.retention_days:
            self.querylog.set_retention(new.query_log.retention_days)
            self.usage_status_db.retention = self.device_store.retention = Retention(
                new.query_log.retention_days
            )
        self.blocklists.configure(new.blocklists)
        self.rules.configure(new.rules)
        self.config = new
        log.info("config reloaded")

    async def stop(self) -> None:
        """Close the sockets, then flush the query log."""
        notify("STOPPING=1")
        for transport in self._transports:
            transport.close()
        for server in self._tcp_servers:
            server.close()
        self.tcp.close_all()
        if self._metrics_server is not None:
            await asyncio.to_thread(self._metrics_server.shutdown)
        await self.blocklists.stop()
        await self.rules.stop()
        await self.discovery.stop()
        await self.upstream_client.close()
        await self.querylog.close()
        for task in (self._watch_task, self._clock_task):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        await self.selftests.stop()
        await self.watch.beat(stopped=True)  # Health says "not answering" at once, not in a minute
        await self.hand_edits.stop()
        await self.events.stop()
        self.query_reader.close()
        log.info("filterd stopped; query log flushed (%d entries written)", self.querylog.written)


def raise_file_limit() -> None:
    """Every upstream lookup in flight holds a socket: allow as many as the system lets us."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _rebinding(config: Config) -> RebindingPolicy:
    return RebindingPolicy(config.rebinding.protect, config.rebinding.allowed_wire())


def _box_names(config: Config) -> tuple[list[str], list[str]]:
    """The box's names and the addresses they answer with (looked up now: start and reload)."""
    settings = config.box_names
    addresses = box_addresses(
        settings.addresses, config.discovery.interface, [hp.host for hp in config.listen]
    )
    log.info("the box's names %s answer %s", ", ".join(settings.names), addresses or "nothing")
    return list(settings.names), addresses


def reload_families(reloads: Counter[str]) -> Iterator[Metric]:
    """The daemon's own metric: config reloads by outcome."""
    yield labelled(
        CounterMetricFamily,
        "filterd_config_reloads",
        "Config reloads by outcome.",
        ["outcome"],
        {(outcome,): n for outcome, n in reloads.copy().items()},
    )
