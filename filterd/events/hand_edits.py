"""Edits of the rules file made outside the dashboard, noticed by filterd and recorded.

The dashboard puts each save in the event log (`rules.saved`, with the file's version) before
the new file replaces the old one. When filterd applies a file whose version no save
announced, someone changed it by hand (or with another tool): that is a `rules.edited_by_hand`
event with every changed setting in plain words, as the dashboard's audit trail shows its own.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from filterd.db.events import EventLog
from filterd.events.kinds import RULES_EDITED_BY_HAND
from filterd.rules.changes import Risk, describe
from filterd.rules.model import Rules

log = logging.getLogger(__name__)


class HandEdits:
    def __init__(
        self,
        store: EventLog,
        emit: Callable[..., None],
        now: Callable[[], float] = time.time,
        risk: Risk | None = None,
    ) -> None:
        self.store = store
        self.emit = emit
        # What the lists and apps in force say of a name or app: a hand edit opening a
        # high-risk site by name or allowing a high-risk app is loosening too, as on a page.
        self.risk = risk
        self.now = now  # the daemon's clock: the event's time, as every other event has
        self._tasks: set[asyncio.Task] = set()

    def adopted(self, before: Rules, after: Rules, version: str) -> None:
        """RulesService.adopted: check off the event loop, then record if by hand."""
        try:
            task = asyncio.get_running_loop().create_task(self._check(before, after, version))
        except RuntimeError:  # no loop (tests of the service alone): check now
            self.check(before, after, version)
            return
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _check(self, before: Rules, after: Rules, version: str) -> None:
        try:
            await asyncio.to_thread(self.check, before, after, version)
        except Exception:  # a record that fails must never stop the rules from applying
            log.exception("rules: cannot record a hand edit")

    def check(self, before: Rules, after: Rules, version: str) -> None:
        changes = describe(before, after, self.risk)
        if not changes or self.store.announced(version):
            return
        lines = [str(change) for change in changes]
        loosening = [change for change in changes if change.loosens_high_risk]
        log.warning("rules file edited outside the dashboard: %s", "; ".join(lines))
        self.emit(
            RULES_EDITED_BY_HAND,
            data={
                "version": version,
                "changes": lines,
                "loosens_high_risk": [str(change) for change in loosening],
                # Which child and what, for the alert; and the categories loosened, so one
                # that is urgent (self-harm, the illegal tier) is sent at once, even at night.
                "loosened": [
                    {"child": c.child, "setting": c.setting, "after": c.after} for c in loosening
                ],
                "categories": sorted({c.category for c in loosening if c.category}),
            },
            ts=self.now(),
        )

    async def stop(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
