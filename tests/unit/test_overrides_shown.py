"""dashboard.data.overrides_shown: the one-off changes in force as the child card shows them.
Found by the outside check (issue 14): a site's name lost its lower case on the card."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

from dashboard.data.overrides_shown import active_overrides

TZ = ZoneInfo("Europe/London")


def test_an_allowed_site_keeps_its_lower_case_name_on_the_card():
    later = datetime.fromtimestamp(time.time() + 7200, TZ).strftime("%Y-%m-%d %H:%M")
    [shown] = active_overrides(
        [{"kind": "allow_site", "site": "seedsman.com", "until": later}], TZ, time.time()
    )
    text = shown.text[:1].upper() + shown.text[1:]  # as the card draws it
    assert text.startswith("Site allowed: seedsman.com until ")
