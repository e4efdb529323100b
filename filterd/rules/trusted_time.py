"""Time you can trust: the wall clock rules are judged by, even before the clock is set.

A Raspberry Pi has no real-time clock. After a power cut it may start in 1970 (or at the time
it last saved) until NTP sets it, and bedtime would be judged by that wrong clock. So filterd
asks the kernel whether the clock is synchronised (ntp_adjtime: TIME_ERROR means STA_UNSYNC;
or systemd-timesyncd's /run/systemd/timesync/synchronized), and while it is, remembers the time
(in memory, and on disk once a minute). While it is not, rules use the last good time moved
forward by the monotonic clock, or the system clock when that is later (the box may have been
off for hours: the last good time can only be too early, never too late).

For tests, $FILTERD_CLOCK_SYNC_FILE names a file saying `synchronised` or `unsynchronised`,
read instead of the kernel, as $FILTERD_CLOCK_FILE moves the wall clock.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import logging
import operator
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from filterd.clock import Clock

SYNC_FILE_VARIABLE = "FILTERD_CLOCK_SYNC_FILE"
TIMESYNCD_FLAG = Path("/run/systemd/timesync/synchronized")
TIME_ERROR = 5  # ntp_adjtime's answer when the kernel's STA_UNSYNC flag is set
PERSIST_EVERY = 60.0  # seconds between writes of the last good time while synchronised

log = logging.getLogger(__name__)


def kernel_synchronised() -> bool:
    """True when NTP (or timesyncd) has set the clock."""
    if TIMESYNCD_FLAG.exists():
        return True
    try:
        timex = ctypes.create_string_buffer(512)  # struct timex with modes 0: read only
        return _ntp_adjtime()(timex) not in (-1, TIME_ERROR)
    except (OSError, AttributeError):
        return False


@functools.cache
def _ntp_adjtime() -> Callable[[ctypes.Array[ctypes.c_char]], int]:
    """libc's ntp_adjtime, looked up once (it is asked twice a second, busy or idle)."""
    return ctypes.CDLL(None, use_errno=True).ntp_adjtime


def sync_source_from_environment() -> Callable[[], bool]:
    """The kernel's answer, unless $FILTERD_CLOCK_SYNC_FILE names a file that says it."""
    path = os.environ.get(SYNC_FILE_VARIABLE)
    if not path:
        return kernel_synchronised

    def from_file() -> bool:
        try:
            return Path(path).read_text().strip().lower() == "synchronised"
        except OSError:
            return False

    return from_file


class TrustedClock:
    """A Clock whose wall time is the system's while synchronised, and otherwise never earlier
    than the last good time moved forward by the monotonic clock."""

    def __init__(
        self,
        base: Clock,
        synchronised: Callable[[], bool],
        store: Path,
        on_change: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.base = base
        self.synchronised = synchronised
        self.store = store
        self.on_change = on_change
        self.monotonic = base.monotonic
        self.synced = False
        self.anchor: tuple[float, float] | None = None  # (good wall time, monotonic then)
        self._persisted_at = float("-inf")
        # The query log stamps every answer with time(): while the system's time is the one
        # in force, that is the base clock's own call, and time() reaches it without a Python
        # frame of ours (C-level partial of a method lookup, safe to bind once: it always
        # calls whichever of the two `_now` is at that moment). `_choose` switches it.
        self._now: Callable[[], float] = base.time
        self.time: Callable[[], float] = functools.partial(operator.methodcaller("_now"), self)
        saved = _read_saved(store)
        if saved is not None:
            self.anchor = (saved, base.monotonic())
        self.refresh()

    def _choose(self) -> None:
        """Point time() at the system's time while it is trusted, else at the last good one."""
        self._now = self.base.time if self.synced or self.anchor is None else self._not_before

    def _not_before(self) -> float:
        """Unsynchronised: the system's time, or the last good time moved on if that is later."""
        system = self.base.time()
        good, then = self.anchor  # type: ignore[misc]
        return max(system, good + (self.base.monotonic() - then))

    def refresh(self) -> None:
        """Re-read the sync state (and a shifted base clock); remember good time. Run twice a
        second by filterd.clock.follow."""
        base_refresh = getattr(self.base, "refresh", None)
        if base_refresh is not None:
            base_refresh()
        was = self.synced, self.using()
        self.synced = bool(self.synchronised())
        if self.synced:
            now = self.base.monotonic()
            self.anchor = (self.base.time(), now)
            if now - self._persisted_at >= PERSIST_EVERY or not was[0]:
                self._persist(self.anchor[0])
                self._persisted_at = now
        self._choose()
        if (self.synced, self.using()) != was and self.on_change is not None:
            self.on_change(self.status())

    def using(self) -> str:
        """Which time rules are judged by: `system` or `last_good`."""
        if self.synced or self.anchor is None:
            return "system"
        good, then = self.anchor
        return "last_good" if good + (self.base.monotonic() - then) > self.base.time() else "system"

    def status(self) -> dict[str, Any]:
        """For Health: synchronised or not, which time is used, and both times."""
        return {
            "synchronised": self.synced,
            "using": self.using(),
            "system_time": self.base.time(),
            "rules_time": self.time(),
        }

    def _persist(self, good: float) -> None:
        temporary = self.store.with_name(self.store.name + ".tmp")
        try:
            temporary.write_text(json.dumps({"last_good_time": good}))
            temporary.replace(self.store)
        except OSError as err:
            log.warning("cannot keep the last good time in %s: %s", self.store, err)


def _read_saved(store: Path) -> float | None:
    with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
        value = json.loads(store.read_text()).get("last_good_time")
        if isinstance(value, int | float) and value > 0:
            return float(value)
    return None
