"""The event log store: one order for every appender, append-only, a stable home id."""

from __future__ import annotations

import sqlite3

import pytest

from filterd.db.events import EventLog
from filterd.events.kinds import BLOCK_HIGH_RISK, DEVICE_NEW, SYSTEM_STARTED, Kind, Severity


def test_two_appenders_share_one_increasing_order(tmp_path):
    path = tmp_path / "filterd.db"
    filterd, dashboard = EventLog(path, "filterd"), EventLog(path, "dashboard")
    ids = []
    for i in range(5):
        ids.append(filterd.append(BLOCK_HIGH_RISK, "sam", "192.0.2.5", {"n": i}))
        ids.append(dashboard.append(DEVICE_NEW, data={"n": i}))
    assert ids == sorted(ids) and len(set(ids)) == 10
    read = filterd.read_after(ids[3])
    assert [e.id for e in read] == ids[4:]
    assert [e.source for e in read[:2]] == ["filterd", "dashboard"]
    assert read[0].data == {"n": 2} and read[0].child == "sam"


def test_a_deleted_last_event_never_gives_its_id_again(tmp_path):
    path = tmp_path / "filterd.db"
    log = EventLog(path, "filterd")
    first = log.append(SYSTEM_STARTED)
    with sqlite3.connect(path) as db:  # someone with the file drops the trigger and deletes
        db.execute("DROP TRIGGER events_append_only_delete")
        db.execute("DELETE FROM events")
    assert log.append(SYSTEM_STARTED) > first


def test_the_home_id_is_made_once_and_kept(tmp_path):
    path = tmp_path / "filterd.db"
    home = EventLog(path, "filterd").home()
    assert len(home) == 36
    assert EventLog(path, "dashboard").home() == home


def test_an_unknown_or_changed_kind_is_refused(tmp_path):
    log = EventLog(tmp_path / "filterd.db", "filterd")
    with pytest.raises(ValueError, match="unknown event kind"):
        log.append(Kind("made.up", 1, Severity.INFO, "x"))
    with pytest.raises(ValueError, match="unknown event kind"):
        log.append(BLOCK_HIGH_RISK._replace(version=2))
