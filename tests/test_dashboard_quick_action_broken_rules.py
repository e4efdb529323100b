"""A quick action on a rules file filterd refused says so, instead of "no such child".

Pausing Sam while someone's hand edit had broken another child's entry answered 404 "That child
is not in the rules": a carer would think Sam had been removed. It must refuse (nothing can be
saved on top of a file filterd refuses) and say why, with the problem for the API. Real rules
file on disk, real parser.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from dashboard.actions import ActionError, Failure, quick
from dashboard.data.accounts import Role, User
from dashboard.data.rules_file import RulesFile

BROKEN = """\
children:
  sam: {name: Sam, age_band: 9_12}
  alex: {name: Alex, age_band: 99_99}
devices: []
end_of_rules: true
"""


def test_pause_on_a_refused_file_says_the_file_is_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(BROKEN)
    rules_file = RulesFile(path)
    dashboard = SimpleNamespace(rules=rules_file)
    carer = User(1, "carol", Role.CARER)
    version = rules_file.read().version
    with pytest.raises(ActionError) as refused:
        quick.quick_action(dashboard, carer, "sam", "pause", "", version, datetime.now(UTC))
    assert refused.value.failure is Failure.REFUSED
    assert "rules file has a problem" in str(refused.value)
    assert "not in the rules" not in str(refused.value)
    assert any(p.startswith("children.alex.age_band") for p in refused.value.problems)
    assert path.read_text() == BROKEN  # nothing written
