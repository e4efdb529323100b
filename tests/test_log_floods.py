"""Log floods (finding 8 of issue 11), with the real daemon: a query log database that cannot
be opened is said once; the writer neither crash-loops nor prints tracebacks; DNS answers."""

from __future__ import annotations

import time

from tests.support.dns_client import ask, rcode
from tests.support.names import unique


def test_a_database_that_cannot_be_opened_is_said_once_and_dns_goes_on(start_filterd, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    filterd = start_filterd(database=str(blocker / "filterd.db"))
    deadline = time.monotonic() + 12  # more than the old 10 s restart cycle
    while time.monotonic() < deadline:
        assert rcode(ask(filterd.port, unique("logless-"))) == "NOERROR"
        time.sleep(0.1)
    log = filterd.log()
    assert "Traceback" not in log
    assert "restarting it" not in log, "the writer must not crash-loop"
    assert log.count("cannot be opened") <= 2, log  # the daemon's word at start, the writer's
    assert filterd.metric("filterd_querylog_dropped_total") > 50
