"""Reading filterd's query log from a test: the rows for a name, waited for until the writer
process has stored them (it writes every 100 ms, in its own process)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path


def logged(
    db_path: Path | str,
    name: str | None = None,
    columns: str = "*",
    *,
    where: str = "",
    params: tuple = (),
    count: int = 1,
    timeout: float = 3.0,
) -> list:
    """The query log's rows for `name` (as logged: lower case), or those matching `where`,
    oldest first; polled until there are `count` of them or `timeout` passes, then what there
    is ([] before the log exists). `count=0` reads once. Rows are sqlite3.Row for `*` (read
    by column name), plain tuples for the columns asked for."""
    if name is not None:
        where, params = "name = ?", (name.lower(),)
    sql = f"SELECT {columns} FROM queries WHERE {where or '1'} ORDER BY id"
    deadline = time.monotonic() + timeout
    while True:
        rows = _read(Path(db_path), sql, params, columns == "*")
        if len(rows) >= count or time.monotonic() >= deadline:
            return rows
        time.sleep(0.05)


def outcomes(db_path: Path | str, name: str, timeout: float = 3.0) -> list[tuple]:
    """(reason, categories, rcode) of each row logged for `name`, once there is one."""
    return logged(db_path, name, "reason, categories, rcode", timeout=timeout)


def _read(db_path: Path, sql: str, params: tuple, as_rows: bool) -> list:
    if not db_path.exists():
        return []
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=2)
    if as_rows:
        db.row_factory = sqlite3.Row
    try:
        return db.execute(sql, params).fetchall()
    except sqlite3.OperationalError:  # no queries table yet
        return []
    finally:
        db.close()
