"""The event log with a real filterd: blocks that matter, restarts, refused rules, failing
upstreams and stale or removed illegal-content sources each append one ordered event, and
`filterd events` prints them in the documented stream layout."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from pathlib import Path

import pytest
import yaml

from filterd.events.event_watch import EVENT_WATCH_INTERVAL
from filterd.forward.upstream import MAX_BACKOFF
from filterd.rules.guards import with_end_line
from tests.support.events import NO_DISCOVERY, SAM, ask, events, kinds, lists
from tests.support.filterd_process import free_port, run_cli, wait_for


def rules(tmp_path: Path) -> Path:
    path = tmp_path / "rules.yaml"
    text = yaml.safe_dump(
        {
            "timezone": "Europe/London",
            "children": {"sam": {"name": "Sam", "age_band": "13_15", "offline": []}},
            "devices": [{"ip": SAM, "name": "Sam's phone", "owner": "sam"}],
        }
    )
    path.write_text(with_end_line(text))
    return path


def test_blocks_that_matter_become_ordered_events_linked_to_their_log_entry(
    start_filterd, tmp_path
):
    filterd = start_filterd(
        rules=str(rules(tmp_path)), lists_update=lists(tmp_path), discovery=NO_DISCOVERY
    )
    for name, qtype in (
        ("www.harm.example", "A"),
        ("www.harm.example", "AAAA"),  # the same device and name within a minute: one event
        ("abuse.example", "A"),
        ("vpn.example", "A"),
        ("social.example", "A"),  # blocked for Sam, but not high risk: no event
    ):
        assert ask(filterd.port, name, qtype) is not None
    assert wait_for(lambda: len(kinds(filterd.db_path)) >= 4, timeout=5)
    time.sleep(0.3)
    rows = events(filterd.db_path)
    assert [r[2] for r in rows] == [
        "system.started",
        "block.high_risk",
        "block.illegal",
        "bypass.attempt",
    ]
    ids = [r[0] for r in rows]
    assert ids == sorted(ids) and len(set(ids)) == 4
    harm = rows[1]
    assert harm[1:7] == ("filterd", "block.high_risk", 1, "high", "sam", SAM)
    data = json.loads(harm[7])
    assert data["name"] == "www.harm.example" and data["categories"] == ["self_harm"]
    with sqlite3.connect(filterd.db_path) as db:
        logged = db.execute(
            "SELECT name, qtype, reason, child FROM queries WHERE id = ?", (data["query_id"],)
        ).fetchone()
    assert logged == ("www.harm.example", "A", "blocked", "sam")
    assert rows[2][4] == "critical"

    # Append-only: SQLite itself refuses to change or delete an event.
    with sqlite3.connect(filterd.db_path) as db:
        for statement in ("UPDATE events SET kind = 'x'", "DELETE FROM events"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                db.execute(statement)

    # A restart appends, after everything before it.
    filterd.stop()
    filterd.start()
    assert wait_for(lambda: kinds(filterd.db_path).count("system.started") == 2, timeout=5)
    assert events(filterd.db_path)[-1][0] > ids[-1]

    # The stream a central view reads: one JSON object a line, with the home's id.
    printed = run_cli("events", "--config", str(filterd.config_path), "--after", str(ids[0]))
    assert printed.returncode == 0, printed.stderr
    lines = [json.loads(line) for line in printed.stdout.splitlines()]
    assert [line["kind"] for line in lines] == [
        "block.high_risk",
        "block.illegal",
        "bypass.attempt",
        "system.started",
    ]
    first = lines[0]
    assert set(first) == {
        "schema",
        "home",
        "id",
        "time",
        "source",
        "kind",
        "version",
        "severity",
        "child",
        "device",
        "data",
    }
    assert first["schema"] == 1 and first["id"] == ids[1] and first["time"].endswith("Z")
    assert len({line["home"] for line in lines}) == 1 and len(first["home"]) == 36


def test_a_refused_rules_file_is_an_event(start_filterd, tmp_path):
    path = rules(tmp_path)
    filterd = start_filterd(rules=str(path), lists_update=lists(tmp_path), discovery=NO_DISCOVERY)
    path.write_text("children: [this is not: valid")
    assert wait_for(lambda: "rules.refused" in kinds(filterd.db_path), timeout=5)
    row = next(r for r in events(filterd.db_path) if r[2] == "rules.refused")
    assert row[4] == "warning"
    assert json.loads(row[7])["problems"], "the problems are kept"


def test_every_upstream_failing_is_one_event(start_filterd, tmp_path):
    dead = f"127.0.0.1:{free_port()}"  # nothing listens there
    filterd = start_filterd(upstreams=[dead], lists_update=lists(tmp_path), discovery=NO_DISCOVERY)
    for i in range(6):
        ask(filterd.port, f"name{i}.example", source="127.0.0.1")
    assert wait_for(lambda: "upstream.all_failing" in kinds(filterd.db_path), timeout=8)
    for i in range(6, 10):
        ask(filterd.port, f"name{i}.example", source="127.0.0.1")
    # The backoff ends by itself (MAX_BACKOFF) while the only upstream is still dead: that is
    # not a recovery (two watch ticks after it, nothing answered, nothing said).
    time.sleep(MAX_BACKOFF + 2 * EVENT_WATCH_INTERVAL + 0.5)
    assert kinds(filterd.db_path).count("upstream.all_failing") == 1
    assert "upstream.recovered" not in kinds(filterd.db_path)


def test_a_failing_or_removed_illegal_source_is_an_event(start_filterd, tmp_path):
    missing = tmp_path / "licensed-illegal-list.txt"  # configured, but not there
    filterd = start_filterd(
        lists_update=lists(tmp_path), lists={"illegal": [str(missing)]}, discovery=NO_DISCOVERY
    )
    assert wait_for(lambda: "lists.stale" in kinds(filterd.db_path), timeout=8)
    row = next(r for r in events(filterd.db_path) if r[2] == "lists.stale")
    (problem,) = json.loads(row[7])["sources"]
    assert problem["category"] == "illegal" and problem["source"] == str(missing)

    config = dict(filterd.config)
    config.pop("lists")
    filterd.write_config(config)
    filterd.signal(signal.SIGHUP)
    assert wait_for(lambda: "lists.illegal_source_removed" in kinds(filterd.db_path), timeout=5)
    row = next(r for r in events(filterd.db_path) if r[2] == "lists.illegal_source_removed")
    assert json.loads(row[7]) == {"sources": [str(missing)]}
