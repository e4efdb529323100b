"""dashboard.data.rule_words: an agreement's rules in force as words. Found by the outside
check, the page and PDF said "App bbc_iplayer: allowed" and "Safe search google: on"."""

from __future__ import annotations

import pytest

from dashboard.data.rule_words import line

NAMES = {"bbc_iplayer": "BBC iPlayer", "roblox": "Roblox"}


@pytest.mark.parametrize(
    ("setting", "value", "shown"),
    [
        ("app bbc_iplayer", "allowed", "BBC iPlayer (app): allowed"),
        ("daily limit app roblox", "1h", "Daily limit Roblox (app): 1h"),
        ("allowed during Saturday", "10:00-12:00 (app bbc_iplayer)",
         "Allowed during Saturday: 10:00-12:00 (BBC iPlayer)"),
        ("safe search google", "on", "Safe search on Google: on"),
        ("safe search duckduckgo", "on", "Safe search on DuckDuckGo: on"),
        ("app not_in_catalogue", "blocked", "App not_in_catalogue: blocked"),
        ("bedtime school nights", "20:30-07:00", "Bedtime school nights: 20:30-07:00"),
    ],
)  # fmt: skip
def test_each_line_reads_as_words(setting, value, shown):
    assert line(setting, value, NAMES) == shown
