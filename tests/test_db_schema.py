"""filterd.db and dashboard.db: schema versions, upgrading a file today's release wrote, ids
that are never reused, and retention enforced when writing and when reading."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from dashboard.data import audit
from dashboard.data import blocked_log as blocked
from dashboard.data.db import REVIEW_DAYS, connect
from dashboard.data.db import SCHEMA_VERSION as DASHBOARD_VERSION
from filterd.db import schema
from filterd.db.devices import DeviceStore, Sighting
from filterd.db.events import EventLog
from filterd.db.querylog_writer import Writer, open_database
from filterd.db.read import FilterdReader
from filterd.db.retention import Retention
from filterd.db.schema import EVENT_DAYS
from filterd.db.usage_status import UsageStatusDb
from filterd.dns.wire import text_to_wire
from filterd.events.kinds import SYSTEM_STARTED
from tests.support.filterd_db import LONG_AGO, query_row, write_queries

FIXTURES = Path(__file__).parent / "fixtures"
HIGH_RISK_BLOCK = 1 << 3  # the self_harm category bit


def release_0(tmp_path: Path) -> tuple[Path, Path]:
    """Copies of the files the release before schema versions wrote (tests/fixtures)."""
    filterd_db = tmp_path / "filterd.db"
    dashboard_db = tmp_path / "dashboard.db"
    shutil.copy(FIXTURES / "release-0-filterd.db", filterd_db)
    shutil.copy(FIXTURES / "release-0-dashboard.db", dashboard_db)
    return filterd_db, dashboard_db


def user_version(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return db.execute("PRAGMA user_version").fetchone()[0]
    finally:
        db.close()


def test_a_file_from_the_previous_release_is_upgraded_in_place_with_nothing_lost(tmp_path):
    path, _ = release_0(tmp_path)
    assert user_version(path) == 0
    open_database(path).close()  # what the query-log writer does at start
    assert user_version(path) == schema.SCHEMA_VERSION
    reader = FilterdReader(path, LONG_AGO)
    rows = reader.db.execute("SELECT id, name, reason, child FROM queries ORDER BY id").fetchall()
    assert rows == [
        (1, "games.example", "forwarded", "sam"),
        (2, "selfharm.example", "blocked", "sam"),
        (3, "ads.example", "blocked", ""),
        (4, "late.example", "offline", "sam"),
    ]
    assert reader.usage_on("sam", "2025-11-24") == {"overall": 42, "gaming": 30}
    assert reader.rules_status()["ok"] is True
    assert [d.hostname for d in reader.devices_seen()] == ["sams-tablet"]
    # the upgraded log's next id is above every id the old file could have reused
    (new_id,) = write_queries(path, [query_row(time.time(), "new.example")])
    assert new_id > 4 and new_id >= int((time.time() - 60) * 1_000_000)
    indexes = {r[0] for r in reader.db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {
        "queries_ts",
        "queries_blocked_ts",
        "queries_high_risk_v2_ts",
        "queries_child_ts",
    } <= indexes


def test_every_writer_opens_the_old_file_and_finds_the_upgrade_done(tmp_path):
    path, _ = release_0(tmp_path)
    state, devices = UsageStatusDb(path, LONG_AGO), DeviceStore(path, LONG_AGO)
    try:  # whichever opens first upgrades; the others find the current version
        devices.record([Sighting("aa:bb:cc:dd:ee:02", "192.168.1.30", "x", None, None, None,
                                 False, time.time())])  # fmt: skip
        state.set_status("rules", {"ok": False, "problems": ["x"]})
        open_database(path).close()
    finally:
        state.close()
        devices.close()
    assert user_version(path) == schema.SCHEMA_VERSION
    db = sqlite3.connect(path)
    assert db.execute("SELECT count(*) FROM queries").fetchone()[0] == 4
    assert db.execute("SELECT count(*) FROM devices").fetchone()[0] == 2


def test_dashboard_db_from_the_previous_release_is_upgraded_in_place(tmp_path):
    _, path = release_0(tmp_path)
    assert user_version(path) == 0
    db = connect(path)
    assert user_version(path) == DASHBOARD_VERSION
    review = db.execute("SELECT query_id, outcome, note, reviewer FROM reviews").fetchall()
    assert review == [(2, "no_concern", "checked with Sam", "Lee")]
    assert [e.action for e in audit.recent(db)] == []  # a year-old entry is past retention
    assert db.execute("SELECT count(*) FROM audit").fetchone()[0] == 1  # kept until pruned
    db.close()


def shape_of(path: Path) -> dict[str, object]:
    """What a filterd.db or dashboard.db holds, apart from its rows: each table's columns (in
    any order, as ALTER TABLE adds them at the end), foreign keys, every index and trigger."""
    db = sqlite3.connect(path)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        shape: dict[str, object] = {
            name: (
                sorted(tuple(c[1:]) for c in db.execute(f"PRAGMA table_info({name})")),
                sorted(tuple(k[2:5]) for k in db.execute(f"PRAGMA foreign_key_list({name})")),
            )
            for name in tables
        }
        for kind, name, sql in db.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger')"
        ):
            shape[f"{kind} {name}"] = " ".join((sql or "").split())
        return shape
    finally:
        db.close()


@pytest.mark.parametrize("release", ["release-0", "release-1", "release-2", "release-3"])
def test_every_earlier_dashboard_db_is_upgraded_to_the_shape_of_a_new_file(tmp_path, release):
    """A file any earlier release wrote (version 0, and versions 1-3 whose connections added
    columns and tables outside any version) is brought to exactly what a new file is."""
    old = tmp_path / "old.db"
    shutil.copy(FIXTURES / f"{release}-dashboard.db", old)
    connect(old).close()
    connect(tmp_path / "new.db").close()
    assert user_version(old) == DASHBOARD_VERSION
    assert shape_of(old) == shape_of(tmp_path / "new.db")
    if release != "release-0":  # its rows, as those releases wrote them, kept and still chained
        from dashboard.data import hash_chain

        db = connect(old)
        assert db.execute("SELECT name, email FROM users").fetchall() == [
            ("Lee", "lee@home.example")
        ]
        for table in ("audit", "reviews"):
            verdict = hash_chain.verify(db, table)
            assert verdict.intact and verdict.checked == 1, table
        db.close()


FILTERD_FIXTURES = ["release-0", f"release-{schema.SCHEMA_VERSION}"]
DASHBOARD_FIXTURES = [f"release-{n}" for n in range(DASHBOARD_VERSION + 1)]


def test_a_file_of_each_database_at_todays_version_is_committed():
    """Each release commits a file it wrote (tests/fixtures/README.md says how), so the next
    release's migration is tried on what homes really hold."""
    assert user_version(FIXTURES / f"release-{schema.SCHEMA_VERSION}-filterd.db") == (
        schema.SCHEMA_VERSION
    )
    assert user_version(FIXTURES / f"release-{DASHBOARD_VERSION}-dashboard.db") == (
        DASHBOARD_VERSION
    )


@pytest.mark.parametrize("from_version_0", [False, True], ids=["as-written", "every-step"])
@pytest.mark.parametrize("release", FILTERD_FIXTURES)
def test_every_earlier_filterd_db_is_upgraded_to_the_shape_of_a_new_file(
    tmp_path, release, from_version_0
):
    """Opening a file any release wrote brings it to exactly what a new file is. every-step
    runs every migration on it (its version set back to 0): a step meets tables today's text
    made, with the columns a later step adds already there, and must cope."""
    old = tmp_path / "old.db"
    shutil.copy(FIXTURES / f"{release}-filterd.db", old)
    if from_version_0:
        with sqlite3.connect(old) as db:
            db.execute("PRAGMA user_version = 0")
    open_database(old).close()
    open_database(tmp_path / "new.db").close()
    assert user_version(old) == schema.SCHEMA_VERSION
    assert shape_of(old) == shape_of(tmp_path / "new.db")
    reader = FilterdReader(old, LONG_AGO)
    first = next(reader.blocked_all(blocked.Filters(start=0, end=2e9).selection()))
    assert (first.name, first.high_risk) == ("selfharm.example", True)  # its rows kept


@pytest.mark.parametrize("release", DASHBOARD_FIXTURES)
def test_every_dashboard_migration_copes_with_a_file_of_any_later_version(tmp_path, release):
    """Every step run on every committed dashboard.db (its version set back to 0): the steps
    tolerate tables and columns a later version made, and the file ends as a new one is."""
    old = tmp_path / "old.db"
    shutil.copy(FIXTURES / f"{release}-dashboard.db", old)
    with sqlite3.connect(old) as db:
        db.execute("PRAGMA user_version = 0")
    connect(old).close()
    connect(tmp_path / "new.db").close()
    assert user_version(old) == DASHBOARD_VERSION
    assert shape_of(old) == shape_of(tmp_path / "new.db")


def _adds_a_column(table: str):
    def step(db: sqlite3.Connection) -> None:
        db.execute(f"ALTER TABLE {table} ADD COLUMN added_later TEXT NOT NULL DEFAULT ''")

    return step


def test_a_new_filterd_migration_runs_on_a_file_todays_release_wrote(tmp_path, monkeypatch):
    """Adding a step is all it takes: the version follows the list, so a home's file written
    today gains the column on its next open (a hand-kept version left as it was skipped it)."""
    path = tmp_path / "filterd.db"
    shutil.copy(FIXTURES / f"release-{schema.SCHEMA_VERSION}-filterd.db", path)
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, _adds_a_column("queries")])
    open_database(path).close()
    with sqlite3.connect(path) as db:
        assert "added_later" in {row[1] for row in db.execute("PRAGMA table_info(queries)")}
    assert user_version(path) == schema.SCHEMA_VERSION + 1


def test_a_new_dashboard_migration_runs_on_a_file_todays_release_wrote(tmp_path, monkeypatch):
    from dashboard.data import db as dashboard_db

    path = tmp_path / "dashboard.db"
    shutil.copy(FIXTURES / f"release-{DASHBOARD_VERSION}-dashboard.db", path)
    steps = [*dashboard_db.MIGRATIONS, _adds_a_column("users")]
    monkeypatch.setattr(dashboard_db, "MIGRATIONS", steps)
    connect(path).close()
    with sqlite3.connect(path) as db:
        assert "added_later" in {row[1] for row in db.execute("PRAGMA table_info(users)")}
    assert user_version(path) == DASHBOARD_VERSION + 1


def test_a_partial_index_built_for_other_reasons_is_rebuilt_and_the_readers_use_it(tmp_path):
    """A file whose blocked-list index was built when fewer reasons blocked (or other
    categories were high-risk) gets the index rebuilt on the next open, so the review queue and
    the export read the index, not the whole log."""
    path = tmp_path / "filterd.db"
    write_queries(path, [query_row(time.time() - 60, "harm.example", categories="self_harm"),
                         query_row(time.time() - 30, "ads.example")])  # fmt: skip
    with sqlite3.connect(path) as db:  # as an earlier release with one blocking reason built it
        db.execute("DROP INDEX queries_blocked_ts")
        db.execute("CREATE INDEX queries_blocked_ts ON queries(ts) WHERE reason IN ('blocked')")
        db.execute("DROP INDEX queries_high_risk_v2_ts")
        db.execute(
            "CREATE INDEX queries_high_risk_v2_ts ON queries(ts) WHERE reason IN ('blocked')"
            " AND (',' || categories || ',') LIKE '%,self_harm,%'"
        )
    open_database(path).close()
    reader = FilterdReader(path, LONG_AGO)
    indexes = dict(
        reader.db.execute("SELECT name, sql FROM sqlite_master WHERE tbl_name = 'queries'")
    )
    assert schema.BLOCKED_CONDITION in indexes["queries_blocked_ts"]
    assert schema.HIGH_RISK_CONDITION in indexes["queries_high_risk_v2_ts"]
    ran: list[str] = []
    reader.db.set_trace_callback(ran.append)
    selection = blocked.Filters(start=0, end=time.time() + 1).selection()
    assert [e.name for e in reader.blocked_all(selection)] == ["harm.example", "ads.example"]
    reader.blocked_page(selection, 0, 10)
    on_the_log = [sql for sql in ran if "FROM queries" in sql]
    assert on_the_log
    for sql in on_the_log:
        plan = " ".join(str(r[-1]) for r in reader.db.execute("EXPLAIN QUERY PLAN " + sql))
        assert "queries_blocked_ts" in plan or "queries_high_risk_v2_ts" in plan, (sql, plan)


def test_a_version_3_dashboard_db_keeps_every_row_and_its_history_stays_append_only(tmp_path):
    from dashboard.data import agreements, hash_chain

    path = tmp_path / "dashboard.db"
    shutil.copy(FIXTURES / "release-3-dashboard.db", path)
    assert user_version(path) == 3
    db = connect(path)
    assert db.execute("SELECT name, email, totp_secret FROM users").fetchall() == [
        ("Lee", "lee@home.example", "JBSWY3DPEHPK3PXP")
    ]
    assert db.execute("SELECT public_id, remote, agent, verified FROM sessions").fetchall() == [
        ("p1", "192.168.1.5", "Firefox", 1)
    ]
    for table in ("audit", "reviews"):
        verdict = hash_chain.verify(db, table)
        assert verdict.intact and verdict.checked == 1, table
    (signed,) = agreements.versions(db, "sam")
    assert [s.signer for s in signed.signatures] == ["Sam"]
    assert db.execute("SELECT bought_by FROM device_records").fetchall() == [("Carer",)]
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE audit SET user = 'someone else'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM agreement_signatures")
    db.close()


def test_opening_a_current_file_changes_no_table(tmp_path):
    """The schema changes only through a migration: a connection to a file already at the
    current version runs no CREATE or ALTER (earlier releases re-ran the whole schema and
    added columns on every connection, outside any version)."""
    path = tmp_path / "dashboard.db"
    connect(path).close()
    db = sqlite3.connect(path)
    db.execute("DROP TABLE digests_sent")  # a table missing at the current version stays so
    db.commit()
    db.close()
    connect(path).close()
    db = sqlite3.connect(path)
    assert (
        db.execute("SELECT name FROM sqlite_master WHERE name = 'digests_sent'").fetchone() is None
    )
    db.close()


def test_opening_a_current_filterd_db_with_each_writer_changes_no_table(tmp_path):
    """filterd.db's schema has one owner, schema.migrate: the query-log writer and the event
    log used to re-run the event tables' CREATE statements on every open, outside any version."""
    path = tmp_path / "filterd.db"
    open_database(path).close()
    with sqlite3.connect(path) as db:
        db.execute("DROP TRIGGER events_append_only_update")  # missing at the current version
        db.execute("DROP INDEX events_ts")
    open_database(path).close()
    log = EventLog(path, "filterd")
    log.append(SYSTEM_STARTED)
    assert log.home()  # the home's id is still made once, by the schema's owner
    log.close()
    UsageStatusDb(path, LONG_AGO).close()
    with sqlite3.connect(path) as db:
        names = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    assert not {"events_append_only_update", "events_ts"} & names


def test_a_new_high_risk_block_is_unreviewed_after_the_log_is_pruned(tmp_path):
    """Reviews are keyed on the entry's id; SQLite used to hand a pruned id to the next entry."""
    path = tmp_path / "filterd.db"
    writer = Writer(path, retention_days=7)
    old = time.time() - 60
    writer.write([(old, "192.168.1.20", text_to_wire("harm.example"), 1, 3, "blocked", 0.001,
                   False, HIGH_RISK_BLOCK, "sam")])  # fmt: skip
    (old_id,) = [r[0] for r in writer.db.execute("SELECT id FROM queries")]
    dashboard_db = connect(tmp_path / "dashboard.db")
    blocked.record_reviews(dashboard_db, [old_id], "no_concern", "old", "Lee")
    writer.db.execute("DELETE FROM queries")  # pruned, as prune_if_due does once it is old
    writer.db.commit()
    writer.write([(time.time(), "192.168.1.20", text_to_wire("harm2.example"), 1, 3, "blocked",
                   0.001, False, HIGH_RISK_BLOCK, "sam")])  # fmt: skip
    (new_id,) = [r[0] for r in writer.db.execute("SELECT id FROM queries")]
    assert new_id != old_id
    reader = FilterdReader(path, Retention(7))
    assert blocked.unreviewed_high_risk(reader, dashboard_db) == 1
    writer.db.close()


def test_a_new_high_risk_block_is_unreviewed_after_the_log_is_recreated(tmp_path):
    path = tmp_path / "filterd.db"
    (old_id,) = write_queries(path, [query_row(time.time() - 60, "harm.example",
                                               categories="self_harm")])  # fmt: skip
    dashboard_db = connect(tmp_path / "dashboard.db")
    blocked.record_reviews(dashboard_db, [old_id], "no_concern", "", "Lee")
    for leftover in tmp_path.glob("filterd.db*"):
        leftover.unlink()  # the file deleted and made again (a new SD card, a reset)
    time.sleep(0.01)
    (new_id,) = write_queries(path, [query_row(time.time(), "harm.example",
                                               categories="self_harm")])  # fmt: skip
    assert new_id > old_id
    assert blocked.unreviewed_high_risk(FilterdReader(path, Retention(7)), dashboard_db) == 1


def test_old_rows_are_pruned_when_written_and_hidden_when_read_before(tmp_path):
    path = tmp_path / "filterd.db"
    now = time.time()
    write_queries(path, [query_row(now - 10 * 86400, "old.example", categories="self_harm"),
                         query_row(now - 60, "new.example", categories="self_harm")])  # fmt: skip
    state = UsageStatusDb(path, Retention(7, usage_days=10))
    devices = DeviceStore(path, Retention(7, device_days=30))
    day = time.strftime("%Y-%m-%d", time.gmtime(now))
    old_day = time.strftime("%Y-%m-%d", time.gmtime(now - 20 * 86400))
    # read before any pruning: what is past retention is not shown
    reader = FilterdReader(path, Retention(7, device_days=30))
    assert [e.name for e in reader.blocked_all(blocked.Filters(start=0, end=now + 1)
                                               .selection())] == ["new.example"]  # fmt: skip
    reader.close()
    state.write_usage([(old_day, "sam", "overall", 50, 0), (day, "sam", "overall", 5, 0)])
    gone = now - 40 * 86400
    devices.record([
        Sighting("aa:00:00:00:00:01", "192.168.1.5", "gone", None, None, None, False, gone),
        Sighting("aa:00:00:00:00:02", "192.168.1.6", "here", None, None, None, False, now),
    ])  # fmt: skip
    writer = Writer(path, retention_days=7)
    writer.connection()
    writer.prune_if_due()
    raw = sqlite3.connect(path)
    assert [r[0] for r in raw.execute("SELECT name FROM queries")] == ["new.example"]
    assert [r[0] for r in raw.execute("SELECT day FROM usage")] == [day]
    assert [r[0] for r in raw.execute("SELECT hostname FROM devices")] == ["here"]
    assert [r[0] for r in raw.execute("SELECT address FROM device_addresses")] == ["192.168.1.6"]
    state.close()
    devices.close()
    writer.db.close()


def test_reviews_and_audit_are_pruned_and_hidden_past_their_retention(tmp_path):
    db = connect(tmp_path / "dashboard.db")
    past = time.time() - (REVIEW_DAYS + 1) * 86400
    db.execute(
        "INSERT INTO reviews (query_id, outcome, note, reviewer, ts)"
        " VALUES (7, 'no_concern', '', 'Lee', ?)",
        (past,),
    )
    db.execute("INSERT INTO audit (ts, user, action) VALUES (?, 'Lee', 'review')", (past,))
    db.commit()
    assert blocked.reviews_for(db, [7]) == {}
    assert audit.recent(db) == []
    audit.record(db, "Ann", "login")  # a write prunes
    assert db.execute("SELECT count(*) FROM audit").fetchone()[0] == 1
    blocked.record_reviews(db, [8], "no_concern", "", "Lee")
    assert [r[0] for r in db.execute("SELECT query_id FROM reviews")] == [8]


def test_events_stay_append_only_until_their_retention_then_are_pruned(tmp_path):
    path = tmp_path / "filterd.db"
    log = EventLog(path, "filterd")
    old = log.append(SYSTEM_STARTED, ts=time.time() - (EVENT_DAYS + 1) * 86400)
    recent = log.append(SYSTEM_STARTED)
    with sqlite3.connect(path) as db, pytest.raises(sqlite3.IntegrityError):
        db.execute("DELETE FROM events WHERE id = ?", (recent,))  # within retention: refused
    log._next_prune = 0.0  # the next append prunes (hourly in service)
    log.append(SYSTEM_STARTED)
    assert old not in [e.id for e in log.read_after(0)]
    assert recent in [e.id for e in log.read_after(0)]
    log.close()


def test_pruning_keeps_the_audit_chain_verifiable_and_a_hand_deletion_still_shows(tmp_path):
    from dashboard.data import hash_chain
    from dashboard.data.db import AUDIT_DAYS

    db = connect(tmp_path / "dashboard.db")
    past = time.time() - (AUDIT_DAYS + 2) * 86400
    hash_chain.append(
        db, "audit", [(past, "Ann", "login", "", "", ""), (past + 1, "Ann", "x", "", "", "")]
    )
    db.commit()
    audit.record(db, "Ann", "login")  # prunes the two old rows, keeps the anchor
    audit.record(db, "Lee", "review")
    assert db.execute("SELECT count(*) FROM audit").fetchone()[0] == 2
    assert hash_chain.verify(db, "audit").intact
    with pytest.raises(sqlite3.IntegrityError):  # within retention: no delete through SQLite
        db.execute("DELETE FROM audit WHERE user = 'Ann'")
    db.execute("DROP TRIGGER audit_no_delete")  # someone editing the file by other means
    db.execute("DELETE FROM audit WHERE user = 'Ann'")
    db.commit()
    assert not hash_chain.verify(db, "audit").intact
