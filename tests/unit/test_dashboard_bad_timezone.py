"""A rules file naming a region without a city (`timezone: Europe`) is refused by filterd; the
dashboard must still show its pages and say what is wrong. Found from outside (issue 11,
finding 7 again): the dashboard read the refused file's zone itself, ZoneInfo("Europe") raised
IsADirectoryError (tzdata's Europe is a folder) and Home, Health, Children, the audit log
and the blocked-requests review all answered 500."""

from __future__ import annotations

import html

from dashboard.data.rules_errors import for_file
from tests.support.dashboard_app import logged_in, make_app

RULES = {
    "timezone": "Europe",
    "children": {"sam": {"name": "Sam", "age_band": "9_12"}},
    "devices": [],
}


def test_pages_still_open_when_the_rules_name_a_region_without_a_city(tmp_path) -> None:
    app = make_app(tmp_path, rules=RULES)
    client = logged_in(app, "carol", "administrator")
    for page in ("/", "/health", "/children/", "/audit/", "/blocked/"):
        response = client.get(page)
        assert response.status_code == 200, (page, response.status_code)
    home = html.unescape(client.get("/").get_data(as_text=True))
    assert "unknown time zone" in home  # the carer is told what is wrong with the file
    # ...in the sentence of the one table of refusals (dashboard/data/rules_errors.py)
    assert for_file(["timezone: unknown time zone 'Europe'"])[0] in home
    assert "timezone:" not in home  # in plain words, not as a key path
