"""A child's name is plain words: markup is refused by filterd's parser, so every writer (set-up,
the child's page, the API, a hand edit) refuses it, with a plain message by the field.

Found by the outside check: set-up took `<img src=x onerror=alert(1)>Tyler Smith` and alerts
then read "<img: self-harm site blocked".
"""

from __future__ import annotations

import pytest

from dashboard.data.rules_file import raw_rules
from filterd.rules.guards import with_end_line
from filterd.rules.parse import RulesError, parse_rules

MARKUP = "<img src=x onerror=alert(1)>Tyler Smith"


def _problems(text: str) -> list[str]:
    with pytest.raises(RulesError) as refused:
        parse_rules(with_end_line(text))
    return refused.value.problems


def test_the_parser_refuses_markup_in_a_child_or_device_name():
    child = f"children:\n  tyler:\n    name: '{MARKUP}'\n    age_band: 13_15\ndevices: []\n"
    assert _problems(child) == ["children.tyler.name: a name is plain words: leave out < and >"]
    device = "children: {}\ndevices:\n  - ip: 192.168.1.9\n    name: '<b>phone</b>'\n"
    assert _problems(device) == ["devices[0].name: a name is plain words: leave out < and >"]
    ordinary = "children:\n  tyler:\n    name: Tyler O'Neil-Smith\n    age_band: 13_15\n"
    assert parse_rules(with_end_line(ordinary)).children["tyler"].name == "Tyler O'Neil-Smith"


def test_set_up_refuses_it_beside_the_name(dashboard_app, signed_in):
    admin = signed_in("Ad", "administrator")
    before = dashboard_app.extensions["dashboard"].rules.path.read_text()
    page = admin.get("/setup/home").get_data(as_text=True)
    version = page.split('name="version" value="')[1].split('"')[0]
    csrf = admin.get("/api/session").get_json()["csrf"]
    form = {
        "csrf": csrf,
        "version": version,
        "timezone": "Europe/London",
        "name": MARKUP,
        "age_band": "13_15",
        "unknown_devices": "household",
    }
    refused = admin.post("/setup/home", data=form)
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert (
        '<span class="field-error" id="name-1-error">A name is plain words: leave out &lt; and'
        " &gt;.</span>" in text
    )
    assert "<img src=x" not in text
    assert dashboard_app.extensions["dashboard"].rules.path.read_text() == before


def test_the_api_and_the_child_page_refuse_it(dashboard_app, signed_in):
    carer = signed_in("Jo", "carer")
    current = carer.get("/api/rules").get_json()
    csrf = carer.get("/api/session").get_json()["csrf"]
    rules = current["rules"]
    rules["children"]["alex"]["name"] = MARKUP
    answer = carer.put(
        "/api/rules",
        json={"version": current["version"], "rules": rules},
        headers={"X-CSRF-Token": csrf},
    )
    assert answer.status_code == 422
    assert answer.get_json()["problems"] == [
        "children.alex.name: a name is plain words: leave out < and >"
    ]
    form = {
        "csrf": csrf,
        "version": current["version"],
        "name": MARKUP,
        "age_band": "13_15",
        "blocked_answer": "null_ip",
    }
    page = carer.post("/children/alex/advanced", data=form)
    assert page.status_code == 400
    text = page.get_data(as_text=True)
    assert "Name: plain words only, so leave out &lt; and &gt;." in text
    path = dashboard_app.extensions["dashboard"].rules.path
    assert raw_rules(path.read_text())["children"]["alex"]["name"] == "Alex"
