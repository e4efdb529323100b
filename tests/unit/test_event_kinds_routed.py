"""Every event kind is either sent to some role or deliberately not alerted, and the README's
event table documents it: a new kind fails here until routing.py and README.md both say so."""

from __future__ import annotations

import re
from pathlib import Path

from dashboard.alerts import routing
from filterd.events.kinds import KINDS

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_kind_is_routed_to_a_role_or_deliberately_not_alerted():
    received = frozenset().union(*routing.MAY_RECEIVE.values())
    unplaced = sorted(set(KINDS) - received - routing.NOT_ALERTED)
    assert unplaced == [], f"kinds nobody receives and not marked NOT_ALERTED: {unplaced}"


def test_no_kind_is_both_alerted_and_not_alerted():
    received = frozenset().union(*routing.MAY_RECEIVE.values())
    assert sorted(received & routing.NOT_ALERTED) == []
    assert set(KINDS) >= routing.NOT_ALERTED, "NOT_ALERTED names a kind that does not exist"


def _documented_kinds() -> set[str]:
    """The kinds named in the first cell of README "Event log" table rows."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Event log", 1)[1].split("\n## ", 1)[0]
    found: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            found.update(re.findall(r"`([a-z_]+\.[a-z_]+)`", first_cell))
    return found


def test_every_kind_has_a_row_in_the_readme_event_table():
    missing = sorted(set(KINDS) - _documented_kinds())
    assert missing == [], f"kinds missing from README's event table: {missing}"
