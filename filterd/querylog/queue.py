"""The query log as the DNS process sees it: a queue that never blocks DNS.

The event loop appends a tuple to a deque; every 100 ms the queue goes, marshal'd, down a pipe
to the writer process (filterd/db/querylog_writer.py), which owns SQLite. When the writer falls
behind and the pipe is full, entries are dropped and counted rather than slowing answers.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import marshal
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from filterd.db.querylog_writer import FRAME, open_database

log = logging.getLogger(__name__)

# (wall time, client, wire name, qtype, rcode, reason value, latency seconds, cached,
#  category mask)
Entry = tuple[float, str, bytes, int, int, str, float, bool, int]

FLUSH_INTERVAL = 0.1
RESTART_INTERVAL = 10.0
MAX_PENDING_BYTES = 4 * 1024 * 1024  # bytes waiting for the pipe before entries are dropped


class QueryLog:
    """Bounded, never-blocking feed of query log entries to the writer process."""

    def __init__(
        self, path: Path, retention_days: int, queue_size: int, offered: Callable[[], int]
    ) -> None:
        """`offered()` tells how many entries were ever recorded (the answers counted), so
        entries pushed out of the full queue can be counted without a check per query."""
        self.path = path
        self.retention_days = retention_days
        self._offered = offered
        self._accounted = 0
        self._queue: collections.deque[Entry] = collections.deque(maxlen=queue_size)
        # Recording is the deque's own append: no Python frame per query. When the writer
        # falls this far behind, the oldest entries fall out and are counted at the flush.
        self.record = self._queue.append
        self._pending = bytearray()
        self.sent = 0
        self.dropped = 0
        self.written = 0
        self.writer_dropped = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._next_restart = 0.0
        self._base = (0, 0)  # counts confirmed by writers that have since died
        self._closing = False

    def start(self) -> None:
        """Create the schema, start the writer process and the periodic flush.

        The schema is made here, before DNS is served, so readers never see a file without
        its table; a database that cannot be opened is reported and DNS starts anyway.
        """
        try:
            open_database(self.path).close()
        except (sqlite3.Error, OSError) as err:
            log.error(
                "query log database %s cannot be opened, queries will not be logged "
                "until it can: %s",
                self.path,
                err,
            )
        self._spawn()
        self._schedule()

    def _spawn(self) -> None:
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "filterd.db.querylog_writer",
                str(self.path),
                str(self.retention_days),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            preexec_fn=ignore_stop_signals,
        )
        os.set_blocking(self._process.stdin.fileno(), False)
        loop = asyncio.get_running_loop()
        loop.add_reader(self._process.stdout.fileno(), self._read_report)

    def _schedule(self) -> None:
        self._timer = asyncio.get_running_loop().call_later(FLUSH_INTERVAL, self._tick)

    def _tick(self) -> None:
        self.flush()
        self._schedule()

    def set_retention(self, days: int) -> None:
        self.retention_days = days
        self._pending += _frame(days)

    def flush(self) -> None:
        """Hand everything queued to the pipe, as far as it will take it without blocking."""
        offered = self._offered()
        lost = offered - self._accounted - len(self._queue)
        self._accounted = offered
        if lost > 0:
            self.dropped += lost
        if self._queue:
            batch = list(self._queue)
            self._queue.clear()
            if len(self._pending) > MAX_PENDING_BYTES:
                self.dropped += len(batch)
            else:
                self._pending += _frame(batch)
                self.sent += len(batch)
        if self._pending and self._process is not None:
            if self._process.poll() is not None:
                if not self._closing:
                    self._restart_when_due()
                return
            try:
                written = os.write(self._process.stdin.fileno(), self._pending)
                del self._pending[:written]
            except BlockingIOError:
                pass
            except OSError as err:
                log.error("query log pipe failed: %s", err)

    def _restart_when_due(self) -> None:
        """Restart a dead writer at most every RESTART_INTERVAL; meanwhile entries queue."""
        now = time.monotonic()
        if now < self._next_restart:
            return
        self._next_restart = now + RESTART_INTERVAL
        log.error("query log writer exited (%s); restarting it", self._process.returncode)
        asyncio.get_running_loop().remove_reader(self._process.stdout.fileno())
        # Whatever the dead writer had not confirmed is lost; count it and start clean.
        self.dropped += max(self.sent - self.written - self.writer_dropped, 0)
        self.sent = self.written + self.writer_dropped
        self._base = (self.written, self.writer_dropped)
        self._pending.clear()
        self._spawn()

    def _read_report(self) -> None:
        line = self._process.stdout.readline()
        if not line:
            asyncio.get_running_loop().remove_reader(self._process.stdout.fileno())
            return
        self._take_report(line)

    def _take_report(self, line: bytes) -> None:
        parts = line.split()
        if len(parts) == 4:
            self.written = self._base[0] + int(parts[1])
            self.writer_dropped = self._base[1] + int(parts[3])

    async def close(self) -> None:
        """Send what is queued, close the pipe, and wait for the writer to finish (SIGTERM)."""
        self._closing = True
        if self._timer is not None:
            self._timer.cancel()
        process = self._process
        if process is None:
            return
        self.flush()
        asyncio.get_running_loop().remove_reader(process.stdout.fileno())
        os.set_blocking(process.stdin.fileno(), True)
        try:
            if self._pending:
                process.stdin.write(bytes(self._pending))
            process.stdin.close()
        except OSError as err:
            log.error("query log pipe failed while stopping: %s", err)
        try:
            await asyncio.to_thread(process.wait, 15)
        except subprocess.TimeoutExpired:
            process.kill()
        for line in process.stdout.read().split(b"\n"):
            self._take_report(line)


def ignore_stop_signals() -> None:
    """Run in the writer before it starts: ignored signals stay ignored across exec, so a
    group SIGTERM (Ctrl-C, systemd stop) cannot kill it even while Python is still starting.
    Stopping is the daemon's call: it closes the pipe and the writer drains it and exits."""
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)


def _frame(payload: object) -> bytes:
    body = marshal.dumps(payload)
    return FRAME.pack(len(body)) + body
