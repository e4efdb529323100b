"""What carers and operators see afterwards: the query log rows and the Prometheus metrics."""

from __future__ import annotations

import re
import socket
import sqlite3
import time

from tests.support.dns_client import ask, rcode, udp_exchange
from tests.support.filterd_process import READY_PROBE
from tests.support.query_log import logged


def test_every_query_is_logged_with_its_outcome(filterd):
    before = time.time()
    ask(filterd.port, "Logged.Example", "AAAA")
    ask(filterd.port, "logged.example", "AAAA")
    ask(filterd.port, "nx-logged.example")
    rows = logged(filterd.db_path, where="name LIKE ?", params=("%logged.example",), count=3)
    first, second, missing = rows
    assert first["name"] == "logged.example"  # lower case, no trailing dot
    assert (first["qtype"], first["rcode"], first["reason"], first["cached"]) == (
        "AAAA",
        "NOERROR",
        "forwarded",
        0,
    )
    assert (second["reason"], second["cached"]) == ("cached", 1)
    assert (missing["rcode"], missing["reason"]) == ("NXDOMAIN", "forwarded")
    assert first["client"] == "127.0.0.1"
    assert before - 1 <= first["ts"] <= time.time() + 1
    assert 0 <= second["latency_ms"] < first["latency_ms"] + 1000


def test_old_entries_are_pruned_by_retention(start_filterd, tmp_path):
    filterd = start_filterd(query_log={"retention_days": 7})
    filterd.stop()
    with sqlite3.connect(filterd.db_path) as db:
        db.execute(
            "INSERT INTO queries (ts, client, name, qtype, rcode, reason, latency_ms, cached)"
            " VALUES (?, '10.0.0.9', 'old.example', 'A', 'NOERROR', 'forwarded', 1, 0)",
            (time.time() - 30 * 86400,),
        )
    filterd.start()
    ask(filterd.port, "fresh.example")
    assert logged(filterd.db_path, "fresh.example", timeout=5)
    assert logged(filterd.db_path, "old.example", count=0) == []


def test_a_writer_that_falls_behind_drops_and_counts_never_delays_dns(start_filterd):
    filterd = start_filterd(query_log={"queue_size": 100})
    answered = 0
    for _ in range(3000):  # far more than fits in 100 queued entries between two flushes
        answered += udp_exchange(filterd.port, READY_PROBE, timeout=1) is not None
    assert answered == 3000
    time.sleep(0.5)
    assert filterd.metric("filterd_querylog_dropped_total") > 0


def test_metrics_follow_prometheus_conventions_and_carry_no_names(filterd):
    ask(filterd.port, "secret-child-site.example")
    ask(filterd.port, "secret-child-site.example")
    ask(filterd.port, "anything.example", "ANY")
    udp_exchange(filterd.port, b"\x12\x34\x00\x00\x00\x02" + bytes(6))  # QDCOUNT=2
    text = filterd.metrics()
    assert filterd.metric("filterd_queries_total", rcode="NOERROR", reason="forwarded") >= 1
    assert filterd.metric("filterd_queries_total", rcode="NOERROR", reason="cached") >= 1
    assert filterd.metric("filterd_queries_total", reason="local") >= 1
    assert filterd.metric("filterd_cache_hits_total") >= 1
    assert filterd.metric("filterd_cache_misses_total") >= 1
    assert filterd.metric("filterd_malformed_queries_total", problem="qdcount") == 1
    assert filterd.metric("filterd_query_duration_seconds_count") >= 3
    assert "secret-child-site" not in text
    assert "127.0.0.1" not in text.replace('upstream="127.0.0.1:', "")
    for name in re.findall(r"^# TYPE (\S+) (\S+)", text, re.M):
        assert name[0].startswith("filterd_"), name
        if name[1] == "counter":
            assert name[0].endswith("_total") or f"\n{name[0]}_total" in text, name


def test_rate_limit_drops_a_flood_but_allows_a_page_load(start_filterd):
    filterd = start_filterd(rate_limit={"queries_per_second": 5, "burst": 150})
    page_load = [ask(filterd.port, f"page{i}.example", timeout=2) for i in range(100)]
    assert all(rcode(r) == "NOERROR" for r in page_load), "a page load must not be limited"
    answered = flood(filterd.port, 400)
    assert answered < 200, f"{answered} of 400 flood queries answered"
    assert filterd.metric("filterd_rate_limited_total") >= 200


def flood(port: int, count: int) -> int:
    """Send count queries as fast as possible from one socket; return how many got answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(1.0)
        for _ in range(count):
            sock.sendto(READY_PROBE, ("127.0.0.1", port))
        answered = 0
        try:
            while True:
                sock.recv(4096)
                answered += 1
        except TimeoutError:
            return answered
