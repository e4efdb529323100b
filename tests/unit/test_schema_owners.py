"""One owner per database: every table, index, trigger and view of filterd.db is defined in
filterd/db/schema.py, and of dashboard.db in dashboard/data/db.py, with their migrations.
Checked on the source, so a table made anywhere else (and so outside any schema version) fails
here before it reaches a home's files."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OWNERS = {Path("filterd/db/schema.py"), Path("dashboard/data/db.py")}
SKIPPED = {"tests", "node_modules", "build", "dist", "__pycache__"}  # tests: not product code
DEFINITION = re.compile(
    r"\bCREATE\s+(?:UNIQUE\s+|TEMP\s+|TEMPORARY\s+|VIRTUAL\s+)?(TABLE|INDEX|TRIGGER|VIEW)\b",
    re.IGNORECASE,
)


def schema_text_outside_the_owners() -> dict[str, list[str]]:
    """Each source file (tests excluded) with schema text in it, and the lines where."""
    found: dict[str, list[str]] = {}
    for folder, subfolders, files in os.walk(ROOT):
        here = Path(folder).relative_to(ROOT)
        subfolders[:] = [d for d in subfolders if d not in SKIPPED and not d.startswith(".")]
        if here == Path("tests"):
            continue
        for name in files:
            relative = here / name
            if relative in OWNERS or Path(name).suffix not in (".py", ".sql", ".sh"):
                continue
            text = (ROOT / relative).read_text(encoding="utf-8", errors="replace")
            hits = [f"line {text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}"
                    for m in DEFINITION.finditer(text)]  # fmt: skip
            if hits:
                found[str(relative)] = hits
    return found


def test_no_table_index_or_trigger_is_defined_outside_the_two_schema_modules():
    assert schema_text_outside_the_owners() == {}


def test_the_check_finds_a_definition_where_it_does_not_belong():
    """The pattern the guard relies on matches the ways a definition is written."""
    for text in (
        "CREATE TABLE IF NOT EXISTS x (a)",
        'f"CREATE TRIGGER IF NOT EXISTS {t}_no_update BEFORE UPDATE ON {t}"',
        "create unique index x_a on x(a)",
        "CREATE\n    VIEW v AS SELECT 1",
    ):
        assert DEFINITION.search(text), text
    assert not DEFINITION.search("a table created by the migration; CREATE a new row")


def test_agreement_tables_are_read_and_written_only_through_dashboard_data_agreements():
    """The review reminder, the pages and the report go through agreements.py's functions."""
    allowed = {Path("dashboard/data/agreements.py"), Path("dashboard/data/db.py")}
    found = sorted(
        str(path.relative_to(ROOT))
        for package in ("dashboard", "filterd", "bench")
        for path in (ROOT / package).rglob("*.py")
        if path.relative_to(ROOT) not in allowed
        and re.search(r"\bagreement_(versions|signatures|reminders)\b", path.read_text("utf-8"))
    )
    assert found == []


def dashboard_tables() -> set[str]:
    """Every table dashboard/data/db.py creates."""
    text = (ROOT / "dashboard/data/db.py").read_text("utf-8")
    return set(re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)", text, re.IGNORECASE))


def sql_naming(tables: set[str]) -> re.Pattern[str]:
    """A statement that reads or writes one of `tables`."""
    return re.compile(r"\b(?:FROM|INTO|UPDATE|JOIN)\s+(" + "|".join(sorted(tables)) + r")\b")


def dashboard_sql_outside_data(tables: set[str]) -> list[str]:
    """SQL naming a dashboard.db table in a dashboard module outside dashboard/data/."""
    statement = sql_naming(tables)
    return sorted(
        f"{path.relative_to(ROOT)} line {text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}"
        for path in (ROOT / "dashboard").rglob("*.py")
        if (ROOT / "dashboard/data") not in path.parents
        for text in [path.read_text("utf-8")]
        for m in statement.finditer(text)
    )


def test_dashboard_db_is_read_and_written_only_in_dashboard_data():
    """Pages, actions, alerts, reports and backups go through dashboard/data's functions: one
    place to look for what touches a table when it changes."""
    tables = dashboard_tables()
    assert {"users", "reviews", "sessions", "alert_choices", "audit"} <= tables
    assert dashboard_sql_outside_data(tables) == []


def test_the_dashboard_sql_check_finds_a_statement_where_it_does_not_belong():
    """What the guard above looks for: a statement naming a table, not a word in prose."""
    statement = sql_naming({"users", "reviews"})
    assert statement.search('db.execute("UPDATE users SET email = ? WHERE id = ?")')
    assert statement.search("SELECT outcome, count(*) FROM reviews WHERE ts >= ?")
    assert not statement.search("the page asks the users for a reason")
