"""Log floods (finding 8 of issue 11): a query log that cannot be written is said once, then
summarised, and its recovery is said; no line per 100 ms batch."""

from __future__ import annotations

import logging
import re
import sqlite3

from filterd.db.querylog_writer import Writer, open_database
from filterd.dns.wire import text_to_wire
from filterd.log_throttle import QuietLog
from tests.support.stages import MovableClock


def entry(name: str) -> tuple:
    return (1.0, "192.168.1.20", text_to_wire(name), 1, 0, "forwarded", 0.001, False, 0, "")


def test_a_read_only_query_log_is_said_once_then_summarised(tmp_path, caplog):
    path = tmp_path / "filterd.db"
    open_database(path).close()
    writer = Writer(path, retention_days=7)
    clock = MovableClock()
    writer.cannot_write = QuietLog(
        logging.getLogger("test"), "query log write failed", 60, clock.monotonic
    )
    writer.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)  # as on a read-only disk
    with caplog.at_level(logging.WARNING):
        for batch in range(750):  # 75 s of 100 ms batches
            writer.write([entry(f"n{batch}.example")])
            clock.advance(0.1)
    lines = [r.getMessage() for r in caplog.records if "write failed" in r.getMessage()]
    assert writer.dropped == 750
    assert len(lines) == 2, lines  # the first failure, one summary after 60 s
    assert "readonly" in lines[0] and "(1 entries lost)" in lines[0]
    assert re.search(
        r"still happening, 60\d times in the last 60 s \(60\d entries lost\)", lines[1]
    )
    writer.db = open_database(path)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        writer.write([entry("after.example")])
    (recovered,) = [r.getMessage() for r in caplog.records]
    assert re.fullmatch(
        r"query log write failed: working again \(1\d\d more times since.*", recovered
    )
    assert writer.written == 1


def test_a_database_that_cannot_be_opened_drops_and_counts_without_a_traceback(tmp_path, caplog):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    writer = Writer(blocker / "filterd.db", retention_days=7)
    with caplog.at_level(logging.WARNING):
        for batch in range(100):
            writer.write([entry(f"n{batch}.example")] * 3)
    assert writer.dropped == 300 and writer.written == 0
    assert len(caplog.records) == 1 and "cannot be opened" in caplog.records[0].getMessage()
