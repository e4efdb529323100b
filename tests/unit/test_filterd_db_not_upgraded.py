"""filterd.db in an older release's shape (the query log without `categories` and `child`,
which filterd's migration adds when it next starts): every page still opens, reading it as
empty, and Health says filterd has not upgraded it yet. Before, the pages reading the query
log answered 500 until filterd upgraded the file."""

from __future__ import annotations

import sqlite3
import time

from filterd.db.read import FilterdReader
from filterd.db.schema import SCHEMA_VERSION, open_for_writing
from tests.support.filterd_db import LONG_AGO

PAGES = (
    "/",
    "/children/sam",
    "/blocked/",
    "/blocked/?risk=high",
    "/blocked/export.csv",
    "/api/children",
    "/api/blocked",
    "/health",
)


def an_older_query_log(path) -> None:
    """The query log as the release before its categories and child columns wrote it."""
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE queries (id INTEGER PRIMARY KEY, ts REAL NOT NULL, client TEXT NOT NULL,"
        " name TEXT NOT NULL, qtype TEXT NOT NULL, rcode TEXT NOT NULL, reason TEXT NOT NULL,"
        " latency_ms REAL NOT NULL, cached INTEGER NOT NULL)"
    )
    db.execute(
        "INSERT INTO queries (ts, client, name, qtype, rcode, reason, latency_ms, cached)"
        " VALUES (?, '192.168.1.20', 'harm.example', 'A', 'NXDOMAIN', 'blocked', 1.0, 0)",
        (time.time() - 60,),
    )
    db.commit()
    db.close()


def test_every_page_opens_on_a_file_filterd_has_not_upgraded(tmp_path, signed_in):
    an_older_query_log(tmp_path / "filterd.db")
    admin = signed_in("Ann", "administrator")
    for path in PAGES:
        assert admin.get(path).status_code == 200, path
    health = admin.get("/health").get_data(as_text=True)
    assert "filterd has not upgraded" in health
    assert "damaged" not in health


def test_once_filterd_upgrades_it_the_rows_are_read(tmp_path, signed_in):
    path = tmp_path / "filterd.db"
    an_older_query_log(path)
    assert FilterdReader(path, LONG_AGO).not_upgraded == 0
    open_for_writing(path).close()  # what filterd does when it starts
    reader = FilterdReader(path, LONG_AGO)
    assert reader.not_upgraded is None
    assert reader.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert [e.name for e in reader.blocked_all(reader_selection())] == ["harm.example"]
    health = signed_in("Ann", "administrator").get("/health").get_data(as_text=True)
    assert "not upgraded" not in health


def reader_selection():
    from dashboard.data.blocked_log import Filters

    return Filters(start=0, end=time.time() + 1).selection()
