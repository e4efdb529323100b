"""The safe-search engines are one list (filterd.rules.safe_search_names.ENGINES): the rules
file's keys, SafeSearch's fields, the rewrites, the rules-change lines and the dashboard's form
all follow it, so an engine added there cannot be half-known."""

from __future__ import annotations

import dataclasses

import pytest

from dashboard.data import child_form, rule_words
from filterd.rules import safe_search_names as engines
from filterd.rules.changes import in_force
from filterd.rules.model import NO_SAFE_SEARCH, SafeSearch, YouTube
from filterd.rules.parse import RulesError, parse_rules


def test_safe_search_fields_are_the_engine_list():
    fields = tuple(f.name for f in dataclasses.fields(SafeSearch))
    assert fields == engines.SETTING_KEYS


def test_every_on_off_engine_has_names_and_a_safe_variant():
    assert set(engines.SWITCHED) == set(engines.ENGINE_KEYS)
    for key in engines.ENGINE_KEYS:
        only_this = dataclasses.replace(NO_SAFE_SEARCH, **{key: True})
        names, target = engines.SWITCHED[key]
        table = engines.rewrites(only_this)
        assert table and len(table) == len(names()), key
        assert set(table.values()) == {engines.domain_to_wire(target)}


def test_the_form_and_the_words_follow_the_list():
    assert child_form.ENGINES == engines.ENGINE_KEYS
    assert set(child_form.SCREENS["blocked"].fields) >= set(engines.SETTING_KEYS)
    assert {e.key: e.label for e in engines.SETTINGS} == rule_words.ENGINES


RULES = """\
children:
  sam:
    age_band: "9_12"
    safe_search: {google: false, bing: true, duckduckgo: false, youtube: moderate}
devices: []
"""


def test_the_rules_file_reads_each_engine_and_in_force_lists_each():
    rules = parse_rules(RULES)
    search = rules.children["sam"].safe_search
    assert search == SafeSearch(google=False, bing=True, duckduckgo=False, youtube=YouTube.MODERATE)
    lines = {s.setting: s.value for s in in_force(rules.children["sam"])}
    for key in engines.SETTING_KEYS:
        assert f"safe search {key}" in lines


def test_an_unknown_engine_is_refused_by_its_key():
    with pytest.raises(RulesError, match=r"safe_search.*yahoo"):
        parse_rules(RULES.replace("youtube: moderate", "youtube: moderate, yahoo: true"))
