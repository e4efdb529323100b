"""dashboard.data.children_left: the names the blocked log gives each row's owner. Found by the
outside check (issue 14): a visitor's device was not named as such."""

from __future__ import annotations

from dashboard.data import children_left
from dashboard.data.db import connect


def test_a_visitors_device_is_named_in_the_blocked_log(tmp_path):
    db = connect(tmp_path / "dashboard.db")
    try:
        names = children_left.names(db, {"sam": "Sam"})
    finally:
        db.close()
    assert names["unknown_devices"] == "Not assigned (a visitor's device)"
    assert names["sam"] == "Sam"
