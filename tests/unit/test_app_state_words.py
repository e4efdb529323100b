"""The Apps screen says each app's state in plain words (check16, seen at 390 px).

Before: "Daily limit: 1 minutes", "Allowed saturdays 10:00 to 12:00", a window written as
`days: [sat, sun]` (as the README shows) came out as "Allowed ['sat', 'sun'] 10:00 to 12:00"
with "['sat', 'sun']" as a choice in the form, "1h30m" was shown as written, BBC iPlayer was
"Allowed (no category)" and ChatGPT "Blocked: ai chat is blocked".
"""

from __future__ import annotations

import pytest

from dashboard.data import app_choices
from filterd.catalogue.load import shipped_catalogue

CATALOGUE = shipped_catalogue()


def _summary(body: dict, app: str) -> str:
    return app_choices.states(body, CATALOGUE)[app].summary


@pytest.mark.parametrize(
    ("limit", "words"),
    [
        (1, "Daily limit: 1 minute"),
        (45, "Daily limit: 45 minutes"),
        ("1h30m", "Daily limit: 1 hour 30 minutes"),
        ("2h", "Daily limit: 2 hours"),
        ("1h 1m", "Daily limit: 1 hour 1 minute"),
    ],
)
def test_a_daily_limit_is_said_in_words(limit, words):
    assert _summary({"age_band": "13_15", "limits": {"youtube": limit}}, "youtube") == words


@pytest.mark.parametrize(
    ("days", "words"),
    [
        ("sat", "Allowed Saturdays 10:00 to 12:00"),
        (["sat", "sun"], "Allowed Saturdays and Sundays 10:00 to 12:00"),
        (["saturday"], "Allowed Saturdays 10:00 to 12:00"),
        ("school_nights", "Allowed School nights (Sunday to Thursday) 10:00 to 12:00"),
        ("wed", "Allowed Wednesdays 10:00 to 12:00"),
    ],
)
def test_an_apps_hours_name_the_days_in_words(days, words):
    window = {"services": ["roblox"], "days": days, "start": "10:00", "end": "12:00"}
    summary = _summary({"age_band": "13_15", "allowed_during": [window]}, "roblox")
    assert summary == words
    assert "[" not in summary and "'" not in summary


def test_several_days_survive_the_form_and_come_back_as_a_list():
    window = {"services": ["roblox"], "days": ["sat", "sun"], "start": "10:00", "end": "12:00"}
    state = app_choices.states({"allowed_during": [window]}, CATALOGUE)["roblox"]
    fields = {"days": state.days, "start": "09:00", "end": "11:00"}
    body = app_choices.apply_choice({"allowed_during": [window]}, "roblox", "hours", fields)
    assert body["allowed_during"] == [
        {"days": ["sat", "sun"], "start": "09:00", "end": "11:00", "services": ["roblox"]}
    ]


def test_category_states_use_plain_words():
    assert _summary({"age_band": "13_15"}, "bbc_iplayer") == "Allowed: no category blocks it"
    assert _summary({"age_band": "13_15"}, "chatgpt") == "Blocked: AI chat is blocked"
