"""The audit trail and reviews cannot be quietly changed: SQLite refuses UPDATE and DELETE, and
a row changed or deleted by other means (the trigger dropped first) makes Health say so; so do
the newest rows deleted, or the chain written again, against the witness in filterd's event log."""

from __future__ import annotations

import json
import sqlite3

import pytest

from dashboard.alerts.notifier import Notifier
from dashboard.data import audit, blocked_log, hash_chain, records
from dashboard.data.db import connect
from filterd.db.events import EventLog


def database(app):
    return app.extensions["dashboard"].settings.database


def record_some(app) -> None:
    db = connect(database(app))
    for i in range(5):
        audit.record(db, "Jo", "rules.save", "sam", f"Sam: daily limit: {i}h -> {i + 1}h")
    blocked_log.record_reviews(db, [11, 12], "no_concern", "", "Dee")
    db.close()


def health(client) -> str:
    return client.get("/health").get_data(as_text=True)


def test_health_says_the_records_are_intact(dashboard_app, signed_in):
    record_some(dashboard_app)
    client = signed_in("Vi", "viewer")
    page = health(client)
    assert "Audit trail" in page and "broken" not in page
    db = connect(database(dashboard_app))
    assert hash_chain.verify(db, "audit").intact and hash_chain.verify(db, "reviews").checked == 2


def test_sqlite_refuses_to_change_or_delete_a_record(dashboard_app):
    record_some(dashboard_app)
    with sqlite3.connect(database(dashboard_app)) as db:
        for statement in (
            "UPDATE audit SET detail = 'nothing'",
            "DELETE FROM audit",
            "DELETE FROM reviews",
        ):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                db.execute(statement)


@pytest.mark.parametrize("tamper", ["change", "delete"])
def test_an_audit_row_altered_in_sqlite_makes_health_report_the_chain_broken(
    tamper, dashboard_app, signed_in
):
    record_some(dashboard_app)
    with sqlite3.connect(database(dashboard_app)) as db:
        db.execute("DROP TRIGGER audit_no_update")
        db.execute("DROP TRIGGER audit_no_delete")
        row = db.execute("SELECT id FROM audit WHERE detail LIKE '%2h -> 3h%'").fetchone()[0]
        if tamper == "change":
            db.execute(
                "UPDATE audit SET detail = 'Sam: daily limit: 2h -> 2h' WHERE id = ?", (row,)
            )
        else:
            db.execute("DELETE FROM audit WHERE id = ?", (row,))
    client = signed_in("Vi", "viewer")  # the sign-in is a new entry after the damage
    page = health(client)
    assert "broken" in page and "outside the dashboard" in page
    assert hash_chain.verify(connect(database(dashboard_app)), "audit").intact is False


def make_event_log(path) -> None:
    """filterd's event log, as filterd makes it when it first runs."""
    log = EventLog(path, "filterd")
    log.read_after()
    log.close()


def witness_now(app) -> None:
    """What the dashboard's notifier does each pass: the newest rows into filterd's event log."""
    filterd_db = app.extensions["dashboard"].config.database
    make_event_log(filterd_db)
    db = connect(database(app))
    try:
        assert records.witness(db, filterd_db, {})
    finally:
        db.close()


def test_the_newest_entries_deleted_show_against_the_witness(dashboard_app, signed_in):
    record_some(dashboard_app)
    witness_now(dashboard_app)
    with sqlite3.connect(database(dashboard_app)) as db:
        db.execute("DROP TRIGGER audit_no_delete")
        newest = db.execute("SELECT max(id) FROM audit").fetchone()[0]
        db.execute("DELETE FROM audit WHERE id >= ?", (newest - 1,))  # the chain still fits
    assert hash_chain.verify(connect(database(dashboard_app)), "audit").intact, "the chain alone"
    page = health(signed_in("Vi", "viewer"))  # signing in chains a new entry to the cut end
    shown = page[page.index('id="chain-1"') :]
    assert "broken" in shown[:200] and "were deleted outside the dashboard" in shown[:400]


def test_a_chain_written_again_from_the_start_shows_against_the_witness(dashboard_app, signed_in):
    record_some(dashboard_app)
    witness_now(dashboard_app)
    with sqlite3.connect(database(dashboard_app)) as db:
        db.execute("DROP TRIGGER audit_no_delete")
        rows = db.execute(f"SELECT {', '.join(hash_chain.FIELDS['audit'])} FROM audit ORDER BY id")
        kept = [tuple(r) for r in rows]
        db.execute("DELETE FROM audit")
        softened = [
            (*row[:4], row[4].replace("4h -> 5h", "4h -> 4h"), row[5]) for row in kept
        ]  # one change, every hash computed again: the chain fits
        hash_chain.append(db, "audit", softened)
    assert hash_chain.verify(connect(database(dashboard_app)), "audit").intact, "the chain alone"
    page = health(signed_in("Vi", "viewer"))
    shown = page[page.index('id="chain-1"') :]
    assert "broken" in shown[:200], shown[:300]


def test_the_running_notifier_witnesses_each_new_entry(dashboard_app):
    settings = dashboard_app.extensions["dashboard"].settings
    config = dashboard_app.extensions["dashboard"].config
    make_event_log(config.database)
    notifier = Notifier(config, settings)
    record_some(dashboard_app)
    notifier.run_once()
    notifier.run_once()  # nothing new: no second witness
    db = connect(database(dashboard_app))
    audit.record(db, "Jo", "rules.save", "sam", "Sam: bedtime: 20:30 -> 21:00")
    db.close()
    notifier.run_once()
    with sqlite3.connect(config.database) as events:
        seen = [
            json.loads(row[0])
            for row in events.execute(
                "SELECT data FROM events WHERE kind = 'records.witnessed' ORDER BY id"
            )
        ]
    assert len(seen) == 2
    assert seen[1]["audit"]["id"] == seen[0]["audit"]["id"] + 1


def witnesses_in(app) -> int:
    with sqlite3.connect(app.extensions["dashboard"].config.database) as events:
        return events.execute(
            "SELECT count(*) FROM events WHERE kind = 'records.witnessed'"
        ).fetchone()[0]


def test_a_restarted_dashboard_never_witnesses_a_head_cut_back(dashboard_app, signed_in):
    """Stop the dashboard, delete the newest entries, start it again: its first pass must not
    witness the cut end as the new truth (it did, and Health then said intact)."""
    config = dashboard_app.extensions["dashboard"].config
    settings = dashboard_app.extensions["dashboard"].settings
    make_event_log(config.database)
    record_some(dashboard_app)
    Notifier(config, settings).run_once()
    assert witnesses_in(dashboard_app) == 1
    with sqlite3.connect(database(dashboard_app)) as db:
        db.execute("DROP TRIGGER audit_no_delete")
        newest = db.execute("SELECT max(id) FROM audit").fetchone()[0]
        db.execute("DELETE FROM audit WHERE id >= ?", (newest - 2,))
    restarted = Notifier(config, settings)
    restarted.run_once()
    assert witnesses_in(dashboard_app) == 1, "the cut end is not witnessed"
    page = health(signed_in("Vi", "viewer"))
    restarted.run_once()  # the sign-in's own entry chains to the cut end: still not witnessed
    assert witnesses_in(dashboard_app) == 1
    shown = page[page.index('id="chain-1"') :]
    assert "were deleted outside the dashboard" in shown[:400]


def test_a_chain_rewritten_while_the_dashboard_runs_stays_broken(dashboard_app, signed_in):
    config = dashboard_app.extensions["dashboard"].config
    settings = dashboard_app.extensions["dashboard"].settings
    make_event_log(config.database)
    notifier = Notifier(config, settings)
    record_some(dashboard_app)
    notifier.run_once()
    with sqlite3.connect(database(dashboard_app)) as db:
        db.execute("DROP TRIGGER audit_no_delete")
        rows = db.execute(f"SELECT {', '.join(hash_chain.FIELDS['audit'])} FROM audit ORDER BY id")
        kept = [tuple(r) for r in rows]
        db.execute("DELETE FROM audit")
        hash_chain.append(db, "audit", [(*r[:4], r[4].replace("0h", "9h"), r[5]) for r in kept])
    notifier.run_once()  # the new head is not witnessed over the old one
    assert witnesses_in(dashboard_app) == 1
    page = health(signed_in("Vi", "viewer"))
    assert "broken" in page[page.index('id="chain-1"') :][:200]
