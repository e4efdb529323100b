"""Small wording found by the outside check (issue 14): a site's name keeps its case on the
child card, a visitor's device is named as such in the blocked log, Childline's promise is
the one Childline makes."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

from dashboard.child_side.helplines import CHILDLINE
from dashboard.data import children_left
from dashboard.data.db import connect
from dashboard.data.overrides_shown import active_overrides

TZ = ZoneInfo("Europe/London")


def test_an_allowed_site_keeps_its_lower_case_name_on_the_card():
    later = datetime.fromtimestamp(time.time() + 7200, TZ).strftime("%Y-%m-%d %H:%M")
    [shown] = active_overrides(
        [{"kind": "allow_site", "site": "seedsman.com", "until": later}], TZ, time.time()
    )
    text = shown.text[:1].upper() + shown.text[1:]  # as the card draws it
    assert text.startswith("Site allowed: seedsman.com until ")


def test_a_visitors_device_is_named_in_the_blocked_log(tmp_path):
    db = connect(tmp_path / "dashboard.db")
    try:
        names = children_left.names(db, {"sam": "Sam"})
    finally:
        db.close()
    assert names["unknown_devices"] == "Not assigned (a visitor's device)"
    assert names["sam"] == "Sam"


def test_childline_is_described_as_childline_describes_itself():
    assert "will not tell anyone" not in CHILDLINE.what
    assert "unless they think someone is in danger" in CHILDLINE.what
