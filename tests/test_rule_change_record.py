"""A record that cannot be quietly changed: a hand edit of the rules file is noticed by filterd
and reaches the audit trail with before and after; a dashboard save says what changed in plain
words, and unblocking a high-risk category needs a reason, which is kept."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest
import yaml

from dashboard.app import announce_save
from dashboard.data.rules_file import ReasonNeeded, RulesFile
from filterd.rules.guards import with_end_line
from tests.support.dashboard_process import DashboardProcess
from tests.support.events import NO_DISCOVERY, SAM, events
from tests.support.filterd_process import free_port, wait_for
from tests.support.lists import write_lists


def rules_dict(**sam) -> dict:
    return {
        "timezone": "Europe/London",
        "children": {"sam": {"name": "Sam", "age_band": "13_15", **sam}},
        "devices": [{"ip": SAM, "name": "Sam's phone", "owner": "sam"}],
    }


def write(path: Path, rules: dict) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(with_end_line(yaml.safe_dump(rules)))
    temporary.replace(path)


class Editor:
    def __init__(self, name: str) -> None:
        self.name = name

    def may(self, _permission) -> bool:
        return True


def audit_rows(db_path: Path) -> list[tuple]:
    with sqlite3.connect(db_path) as db:
        return db.execute("SELECT user, action, target, detail FROM audit ORDER BY id").fetchall()


@pytest.fixture
def home(start_filterd, tmp_path):
    rules_path = tmp_path / "rules.yaml"
    write(rules_path, rules_dict())
    shipped = write_lists(tmp_path / "shipped", adult=["adult.example"])
    listen = f"127.0.0.1:{free_port()}"
    filterd = start_filterd(
        rules=str(rules_path),
        lists_update={"directory": str(tmp_path / "lists"), "shipped": str(shipped)},
        discovery=NO_DISCOVERY,
        dashboard={
            "listen": listen,
            "database": str(tmp_path / "dashboard.db"),
            "allowed_hosts": ["127.0.0.1"],
        },
    )
    dashboard = DashboardProcess(filterd.config_path, listen, tmp_path).start()
    yield filterd, rules_path, tmp_path / "dashboard.db"
    dashboard.stop()


def test_a_hand_edit_loosening_a_category_appears_in_the_audit_trail_with_before_and_after(home):
    filterd, rules_path, dashboard_db = home
    write(rules_path, rules_dict(block_categories=["gambling"]))  # adult and more unblocked
    assert wait_for(
        lambda: any(r[1] == "rules.hand_edit" for r in audit_rows(dashboard_db)), timeout=10
    )
    (row,) = [r for r in audit_rows(dashboard_db) if r[1] == "rules.hand_edit"]
    assert row[0] == "(edited by hand)"
    assert "Sam: adult: blocked -> allowed" in row[3]
    hand = [e for e in events(filterd.db_path) if e[2] == "rules.edited_by_hand"]
    assert len(hand) == 1 and hand[0][4] == "warning"


def test_a_hand_edit_allowing_a_high_risk_site_by_name_is_a_loosening(home):
    """Found by the outside check: opening a high-risk site through an allow list needed no
    reason; filterd judges a hand edit's allow entries by the lists it answers from."""
    filterd, rules_path, _ = home
    write(rules_path, rules_dict(allow=["adult.example", "school.example"]))
    assert wait_for(
        lambda: any(e[2] == "rules.edited_by_hand" for e in events(filterd.db_path)), timeout=10
    )
    (hand,) = [e for e in events(filterd.db_path) if e[2] == "rules.edited_by_hand"]
    loosened = json.loads(hand[7])["loosens_high_risk"]
    assert loosened == ["Sam: allow list: none -> adult.example, school.example"]


def test_a_dashboard_save_is_not_taken_for_a_hand_edit_and_a_loosening_needs_a_reason(home):
    filterd, rules_path, dashboard_db = home
    rules_file = RulesFile(rules_path, announce_save(filterd.db_path))
    snapshot = rules_file.read()
    loosened = rules_dict(block_categories=["gambling"])
    with pytest.raises(ReasonNeeded) as refused:
        rules_file.save(loosened, snapshot.version, Editor("Jo"), reason="")
    assert "Sam: adult: blocked -> allowed" in refused.value.loosened
    saved = rules_file.save(
        loosened, snapshot.version, Editor("Jo"), reason="Sam is 17 next week; agreed at review"
    )
    assert "Sam: adult: blocked -> allowed" in saved.described
    assert saved.described[-1] == "reason: Sam is 17 next week; agreed at review"
    time.sleep(3)  # filterd applies it within 2 s
    kinds = [e[2] for e in events(filterd.db_path)]
    assert "rules.saved" in kinds
    assert "rules.edited_by_hand" not in kinds, "a save announced by the dashboard"
    assert not any(r[1] == "rules.hand_edit" for r in audit_rows(dashboard_db))
