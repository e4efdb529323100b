"""filterd.db damaged (a power cut mid-write, a full disk, a bad SD card): every page still
opens, reading as empty, and Health says in plain words that the records cannot be read and
what to do. Before, the home page, Health, Devices, the blocked log and the API answered 500."""

from __future__ import annotations

import sqlite3

import pytest

from filterd.db.schema import migrate

PAGES = ("/", "/health", "/devices/", "/blocked/", "/blocked/export.csv", "/audit/", "/children/")
API = ("/api/children", "/api/devices", "/api/blocked")


def not_a_database(path) -> None:
    path.write_bytes(b"this was filterd.db until the power went" * 200)


def torn_inside(path) -> None:
    """A real filterd.db with pages inside it overwritten: SQLite calls it malformed."""
    db = sqlite3.connect(path)
    migrate(db)
    db.executemany(
        "INSERT INTO status (key, value, updated) VALUES (?, ?, 0)",
        [(f"k{i}", "x" * 900) for i in range(400)],
    )
    db.commit()
    db.close()
    data = bytearray(path.read_bytes())
    data[4096:] = b"\xff" * (len(data) - 4096)  # every page after the schema
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [not_a_database, torn_inside])
def test_every_page_opens_and_health_says_the_records_cannot_be_read(tmp_path, signed_in, damage):
    damage(tmp_path / "filterd.db")
    admin = signed_in("Ann", "administrator")
    for path in (*PAGES, *API):
        assert admin.get(path).status_code == 200, path
    health = admin.get("/health").get_data(as_text=True)
    assert "cannot be read: it is damaged" in health
    assert "Restore last night" in health


def test_a_readable_filterd_db_says_nothing_of_damage(tmp_path, signed_in):
    db = sqlite3.connect(tmp_path / "filterd.db")
    migrate(db)
    db.close()
    health = signed_in("Ann", "administrator").get("/health").get_data(as_text=True)
    assert "damaged" not in health


def test_the_export_reads_a_damaged_log_as_empty_and_says_why(tmp_path):
    """blocked_all (the CSV export) treats damage found while reading as every other read
    does: no rows, and `damaged` set for Health, never an error half way through a download."""
    from dashboard.data.blocked_log import Filters
    from filterd.db.read import FilterdReader
    from tests.support.filterd_db import LONG_AGO, query_row, write_queries

    path = tmp_path / "filterd.db"
    write_queries(path, [query_row(1e9 + i, f"n{i}.example") for i in range(2000)])
    data = bytearray(path.read_bytes())
    data[len(data) // 2 :] = b"\xff" * (len(data) - len(data) // 2)  # the log's later pages
    path.write_bytes(bytes(data))
    reader = FilterdReader(path, LONG_AGO, now=1e9 + 3000)
    rows = list(reader.blocked_all(Filters(start=0, end=2e9).selection()))
    assert len(rows) < 2000
    assert reader.damaged
