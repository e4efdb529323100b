"""Which audit entries are rule changes, and which events are blocks a safeguarding lead
reviews, are each said once (issue 10: the digest, the evidence report and agreements each had
their own `action IN (...)` query and their own strings of event kinds)."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dashboard.alerts.digest import DAILY, _period, build
from dashboard.data import audit
from dashboard.data.db import connect
from filterd.db.read import FilterdReader
from filterd.events.kinds import KINDS, REVIEWED_BLOCKS, SELFTEST_KINDS, Severity
from filterd.rules.model import Profile, Rules
from tests.support.filterd_db import LONG_AGO

LON = ZoneInfo("Europe/London")


def test_rule_changes_are_saves_and_hand_edits_in_their_period_and_the_digest_lists_them(
    tmp_path: Path,
) -> None:
    db = connect(tmp_path / "dashboard.db")
    audit.record(db, "Jo", audit.RULES_SAVE, "sam", "Sam: bedtime from 21:00")
    audit.record(db, "Jo", "auth.signin", "", "")
    audit.record(db, "(by hand)", audit.RULES_HAND_EDIT, "rules file", "Sam: gaming allowed")
    now = time.time()
    changes = audit.rule_changes(db, now - 60, now + 60)
    assert [(c.user, c.target, c.detail) for c in changes] == [
        ("Jo", "sam", "Sam: bedtime from 21:00"),
        ("(by hand)", "rules file", "Sam: gaming allowed"),
    ]
    assert audit.rule_changes(db, now + 60, now + 120) == []  # outside the period: none
    after_first = audit.rule_changes(db, changes[0].id, changes[1].id, by_id=True)
    assert [c.detail for c in after_first] == ["Sam: gaming allowed"]

    rules = Rules(LON, {"sam": Profile("sam", "Sam", "13_15", 0)}, (), None)
    reader = FilterdReader(tmp_path / "filterd.db", LONG_AGO)
    try:
        today = datetime.fromtimestamp(now, LON).date()
        digest = build(_period(DAILY, today, 1, LON), reader, db, rules, "https://box")
    finally:
        reader.close()
        db.close()
    assert "Rule changes: 2" in digest["text"]
    assert "(by hand): Sam: gaming allowed" in digest["text"]


def test_the_reviewed_blocks_and_self_test_kinds_are_kinds_filterd_writes() -> None:
    assert set(REVIEWED_BLOCKS) == {"block.high_risk", "block.illegal", "bypass.attempt"}
    for name in (*REVIEWED_BLOCKS, *SELFTEST_KINDS):
        assert name in KINDS
    for name in REVIEWED_BLOCKS:  # each one is a block the safeguarding lead is told of
        assert KINDS[name].severity in (Severity.HIGH, Severity.CRITICAL)
