"""Blocklists inside the running daemon: load at start, swap in new indexes, refresh on a period.

Updates run as a separate, lower-priority process (`filterd lists update`) so compiling
millions of domains never holds the DNS process; the daemon only notices the new file.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import sys
import time
from pathlib import Path
from typing import Any

from filterd.catalogue.service import CatalogueService, catalogue_path
from filterd.dns.block_answers import BlockAnswers
from filterd.lists.categories import mask_of
from filterd.lists.index import domain_to_wire
from filterd.lists.parse import parse_list
from filterd.lists.patterns import EMPTY, NamePatterns, load_patterns
from filterd.lists.schedule import next_update_in
from filterd.lists.settings import BlocklistSettings
from filterd.lists.store import ListStore
from filterd.lists.update import build_index, index_path, read_status
from filterd.text.redact import redact_text

log = logging.getLogger(__name__)

WATCH_INTERVAL = 2.0  # seconds between checks for a new index file
RECHECK_INTERVAL = 60.0  # longest sleep between looks at the update schedule


HELPLINES_NAME = "helplines.txt"
ESSENTIAL_NAME = "essential.txt"


def load_helplines(settings: BlocklistSettings) -> frozenset[bytes]:
    """Wire names of the shipped helpline list plus the config's own."""
    return _shipped_names(settings, HELPLINES_NAME, settings.helplines)


def load_essential(settings: BlocklistSettings) -> frozenset[bytes]:
    """Wire names of the shipped essential list (school platforms, app stores, NHS, gov.uk)
    plus the config's own (a home's school)."""
    return _shipped_names(settings, ESSENTIAL_NAME, settings.essential)


def _shipped_names(
    settings: BlocklistSettings, file_name: str, extra: tuple[str, ...]
) -> frozenset[bytes]:
    domains = list(extra)
    shipped = settings.lists_update.shipped / file_name
    if shipped.exists():
        domains += parse_list(shipped.read_text(encoding="utf-8", errors="replace")).blocked
    return frozenset(domain_to_wire(d) for d in domains)


def load_protected(
    settings: BlocklistSettings, keep: NamePatterns = EMPTY
) -> tuple[frozenset[bytes], frozenset[bytes], NamePatterns]:
    """Helplines, essential names and name patterns for the list store; `keep` stays in force
    when the patterns file cannot be read."""
    patterns = load_patterns(settings.lists_update.shipped)
    if patterns is None:
        patterns = keep
    return load_helplines(settings), load_essential(settings), patterns


def block_answers(settings: BlocklistSettings) -> BlockAnswers:
    how = settings.blocked_answer
    v4 = ipaddress.ip_address(how.ipv4).packed if how.ipv4 else None
    v6 = ipaddress.ip_address(how.ipv6).packed if how.ipv6 else None
    return BlockAnswers(how.style, how.ttl, v4, v6)


class Blocklists:
    """The list store plus its upkeep: watcher, periodic update, status for the metrics."""

    def __init__(self, settings: BlocklistSettings, config_path: Path | None) -> None:
        self.settings = settings
        self.config_path = config_path
        self.store = ListStore(index_path(settings), *load_protected(settings))
        self.floor = mask_of(settings.block_categories)
        self.answers = block_answers(settings)
        self.status: dict[str, Any] | None = None
        self.updates = {"ok": 0, "failed": 0}
        self.apps = CatalogueService(catalogue_path(settings.lists_update.shipped))
        self._tasks: list[asyncio.Task] = []

    def configure(self, settings: BlocklistSettings) -> None:
        """Adopt a reloaded config: the household floor and blocked answers apply at once;
        new sources are used by the next update."""
        self.settings = settings
        self.floor = mask_of(settings.block_categories)
        self.answers = block_answers(settings)
        self.store.protect(*load_protected(settings, self.store.patterns))
        path = catalogue_path(settings.lists_update.shipped)
        if path != self.apps.path:
            self.apps.path = path
            self.apps.refresh()

    def load(self) -> None:
        """Serve at once from the last index; on a first boot build one from shipped lists."""
        if not self.store.refresh():
            log.info("no blocklist index yet: building one from the shipped lists")
            build_index(self.settings, online=False)
            self.store.refresh()
        self.status = read_status(self.settings)
        self.apps.load()

    def start(self) -> None:
        self._tasks.append(asyncio.ensure_future(self._watch()))
        if self.config_path is not None and self.settings.lists_update.refresh_hours > 0:
            self._tasks.append(asyncio.ensure_future(self._refresh_periodically()))

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(WATCH_INTERVAL)
            try:
                if self.store.refresh():
                    self.status = read_status(self.settings)
            except Exception:  # the watcher must outlive any one bad file
                log.exception("checking for a new blocklist index failed")
            try:
                self.apps.refresh()
            except Exception:
                log.exception("checking for a new app catalogue failed")

    async def _refresh_periodically(self) -> None:
        """Update when schedule.next_update_in says, looking again at least every minute so a
        reloaded config (a new source, another period) is noticed without a restart."""
        while True:
            wait = next_update_in(self.status, self.settings, time.time())
            if wait > 0:
                await asyncio.sleep(min(wait, RECHECK_INTERVAL))
                continue
            if not await self.run_update():
                # It wrote no new status, so the schedule would say "now" again at once.
                await asyncio.sleep(RECHECK_INTERVAL)
            self.status = read_status(self.settings) or self.status

    async def run_update(self) -> bool:
        """Run `filterd lists update` as a child process; the watcher swaps its result in."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "filterd",
            "lists",
            "update",
            "--config",
            str(self.config_path),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await process.communicate()
        outcome = "ok" if process.returncode == 0 else "failed"
        self.updates[outcome] += 1
        if outcome == "failed":
            log.error(
                "blocklist update failed, the previous lists stay in force: %s",
                redact_text(err.decode(errors="replace").strip()[-500:]),
            )
        return outcome == "ok"

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.store.close()
