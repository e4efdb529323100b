"""The audit trail and reviews cannot be quietly changed: SQLite refuses UPDATE and DELETE, and
a row changed or deleted by other means (the trigger dropped first) makes Health say so."""

from __future__ import annotations

import sqlite3

import pytest

from dashboard.data import audit, blocked_log, chain
from dashboard.data.db import connect


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
    assert chain.verify(db, "audit").intact and chain.verify(db, "reviews").checked == 2


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
    assert chain.verify(connect(database(dashboard_app)), "audit").intact is False
