"""A rules file cut short at any byte is refused; the dashboard's saves are accepted whole."""

from __future__ import annotations

import pytest

from dashboard.data.accounts import Role, User
from dashboard.data.rules_file import RulesFile, StaleEdit, file_text
from filterd.rules.guards import END_LINE, sudden_emptying
from filterd.rules.parse import RulesError, parse_rules, parse_rules_file

RAW = {
    "timezone": "Europe/London",
    "unknown_devices": "strict",
    "children": {
        "sam": {"name": "Sam", "age_band": "9_12", "deny": ["bad.example"]},
        "alex": {"name": "Alex", "age_band": "13_15"},
    },
    "devices": [
        {"ip": "192.168.1.20", "name": "Sam's tablet", "owner": "sam"},
        {"mac": "aa:bb:cc:dd:ee:01", "name": "Alex's phone", "owner": "alex"},
        {"ip": "192.168.1.30", "name": "Carer's laptop", "owner": "none"},
    ],
}


def test_every_cut_of_a_saved_rules_file_is_refused_and_the_whole_file_accepted():
    text = file_text(RAW)
    whole = parse_rules_file(text)
    assert set(whole.children) == {"sam", "alex"} and len(whole.devices) == 3
    accepted = []
    for cut in range(len(text)):
        try:
            parse_rules_file(text[:cut])
        except RulesError as err:
            assert err.problems, cut
            continue
        accepted.append(cut)
    assert accepted == [], f"cuts accepted at bytes {accepted} of {len(text)}"


def test_without_the_end_check_many_cuts_would_pass():
    """The old parser's weakness, kept visible: the end line is what catches these."""
    text = file_text(RAW)
    cut = text.index("\ndevices:") + 1
    rules = parse_rules(text[:cut])
    assert rules.children and not rules.devices
    with pytest.raises(RulesError) as refused:
        parse_rules_file(text[:cut])
    (problem,) = refused.value.problems
    assert problem.startswith("end_of_rules: missing") and END_LINE in problem


def test_a_hand_edit_after_the_end_line_is_refused_with_how_to_fix_it():
    text = file_text(RAW) + "  - {ip: 192.168.1.40, name: New phone, owner: sam}\n"
    with pytest.raises(RulesError) as refused:
        parse_rules_file(text)
    assert "make `end_of_rules: true` its last line" in refused.value.problems[0]


def test_comments_and_blank_lines_may_follow_the_end_line():
    assert parse_rules_file(file_text(RAW) + "\n# edited by hand\n").children


def test_emptying_every_child_or_device_needs_the_word_none():
    in_force = parse_rules_file(file_text(RAW))
    by_accident = parse_rules_file(
        file_text({"timezone": "Europe/London", "children": {}, "devices": []})
        .replace("children: none", "children: {}")
        .replace("devices: none", "devices: []")
    )
    problems = sudden_emptying(in_force, by_accident)
    assert [p.split(":")[0] for p in problems] == ["children", "devices"]
    assert "write `children: none`" in problems[0]
    meant = parse_rules_file(
        file_text({"timezone": "Europe/London", "children": {}, "devices": []})
    )
    assert sudden_emptying(in_force, meant) == []
    assert sudden_emptying(None, by_accident) == []  # a first file may be empty


def test_the_dashboard_reads_none_back_as_empty_and_saves_a_whole_file(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(file_text({"children": {}, "devices": []}))
    rules_file = RulesFile(path)
    snapshot = rules_file.read()
    assert snapshot.problems == [] and snapshot.raw == {"children": {}, "devices": []}
    raw = dict(snapshot.raw, children={"kit": {"name": "Kit", "age_band": "under_9"}})
    rules_file.save(raw, snapshot.version, User(1, "admin", Role.ADMINISTRATOR))
    saved = path.read_text()
    assert saved.endswith(f"\n{END_LINE}\n") and saved.count(END_LINE) == 1
    assert list(parse_rules_file(saved).children) == ["kit"]


def test_the_dashboard_will_not_save_on_top_of_a_cut_short_file(tmp_path):
    path = tmp_path / "rules.yaml"
    whole = file_text(RAW)
    path.write_text(whole[: whole.index("\ndevices:") + 1])  # the devices are missing
    rules_file = RulesFile(path)
    snapshot = rules_file.read()
    raw = dict(snapshot.raw, timezone="Europe/Dublin")
    with pytest.raises(StaleEdit, match="incomplete"):
        rules_file.save(raw, snapshot.version, User(1, "admin", Role.ADMINISTRATOR))
    assert path.read_text() == whole[: whole.index("\ndevices:") + 1], "left as it was"


def test_the_dashboard_will_not_save_on_top_of_a_file_it_cannot_read(tmp_path):
    """A hand edit that breaks the YAML (here a key written twice) reads as no rules at all: an
    edit made from that (the set-up's time zone, assigning a device) would have written a file
    with no children and no devices. It is refused and the file left for its editor to fix."""
    path = tmp_path / "rules.yaml"
    broken = file_text(RAW).replace("timezone:", "timezone: Europe/Paris\ntimezone:", 1)
    path.write_text(broken)
    rules_file = RulesFile(path)
    snapshot = rules_file.read()
    assert snapshot.raw == {} and snapshot.problems
    raw = dict(snapshot.raw, timezone="Europe/Dublin", children={})  # as the set-up saved
    with pytest.raises(StaleEdit, match=r"cannot be read .*duplicate key"):
        rules_file.save(raw, snapshot.version, User(1, "admin", Role.ADMINISTRATOR))
    assert path.read_text() == broken, "left as it was"
