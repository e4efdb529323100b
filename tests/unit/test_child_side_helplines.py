"""dashboard.child_side.helplines: the helplines a block page shows, each described as the
service describes itself. Found by the outside check (issue 14): Childline's promise was not the
one Childline makes."""

from __future__ import annotations

from dashboard.child_side.helplines import CHILDLINE


def test_childline_is_described_as_childline_describes_itself():
    assert "will not tell anyone" not in CHILDLINE.what
    assert "unless they think someone is in danger" in CHILDLINE.what
