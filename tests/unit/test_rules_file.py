"""The rules file: the example parses, hand-written values stay text, presets fill in, and every
mistake is refused at once with its key path and reason."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from filterd.lists.categories import mask_of
from filterd.lists.index import domain_to_wire
from filterd.rules.guards import with_end_line
from filterd.rules.model import (
    ALL_DAYS,
    NO_SAFE_SEARCH,
    Limits,
    OverrideKind,
    SafeSearch,
    Window,
    YouTube,
)
from filterd.rules.parse import RulesError, parse_rules
from filterd.rules.presets import PRESETS, STRICT_PRESET
from tests.support.filterd_process import run_cli

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "rules.example.yaml"


def problems(text: str) -> list[str]:
    with pytest.raises(RulesError) as caught:
        parse_rules(text)
    return caught.value.problems


def child(body: str, devices: str = "") -> str:
    """A file with one child, sam, whose flow-mapping body is `body`."""
    return f"children:\n  sam: {{age_band: 9_12, {body}}}\n{devices}"


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


# The example file


def test_example_file_parses_with_two_children_and_five_devices():
    rules = parse_rules(EXAMPLE.read_text())
    assert sorted(rules.children) == ["alex", "sam"]
    assert len(rules.devices) == 5
    assert str(rules.timezone) == "Europe/London"


def test_example_sam_limits_are_three_hours_gaming_two_streaming_ninety_reset_four():
    sam = parse_rules(EXAMPLE.read_text()).children["sam"]
    assert sam.limits == Limits(180, {"gaming": 120, "streaming": 90}, 4 * 60)


def test_example_devices_keep_owners_and_addresses():
    devices = parse_rules(EXAMPLE.read_text()).devices
    assert [(d.owner, d.ip, d.mac) for d in devices] == [
        (None, "127.0.0.1", None),
        ("sam", "127.0.0.2", None),
        ("alex", "127.0.0.3", None),
        ("sam", None, "aa:bb:cc:dd:ee:01"),
        (None, "192.168.1.30", None),
    ]


# Values that YAML 1.1 would turn into numbers stay text


def test_unquoted_time_of_day_is_read_as_a_time_not_a_base_60_number():
    sam = parse_rules(child("offline: [{days: every_day, start: 21:00, end: 07:00}]")).children
    assert sam["sam"].offline == (Window(ALL_DAYS, 21 * 60, 7 * 60),)


def test_unquoted_age_band_with_underscore_stays_text():
    assert parse_rules(child("name: Sam")).children["sam"].age_band == "9_12"


def test_mac_of_digits_only_stays_text():
    rules = parse_rules(child("name: Sam", "devices:\n  - {mac: 10:20:30:40:50:59, owner: sam}\n"))
    assert rules.devices[0].mac == "10:20:30:40:50:59"


def test_mac_with_dashes_and_capitals_is_normalised():
    rules = parse_rules(child("name: Sam", "devices:\n  - {mac: AA-BB-CC-DD-EE-0F, owner: sam}\n"))
    assert rules.devices[0].mac == "aa:bb:cc:dd:ee:0f"


def test_unquoted_reset_time_is_a_time():
    sam = parse_rules(child("limits: {overall: 90, reset: 04:30}")).children["sam"]
    assert sam.limits == Limits(90, {}, 4 * 60 + 30)


# Age-band presets


def test_age_band_preset_fills_in_categories_safe_search_and_bedtime():
    sam = parse_rules(child("name: Sam")).children["sam"]
    preset = PRESETS["9_12"]
    assert sam.block_mask == preset.block_mask
    assert sam.safe_search == preset.safe_search
    assert sam.offline == preset.offline


def test_explicit_block_categories_replace_the_preset_but_keep_illegal():
    sam = parse_rules(child("block_categories: [gaming]")).children["sam"]
    assert sam.block_mask == mask_of(["gaming", "illegal"])


def test_empty_block_categories_still_block_illegal():
    sam = parse_rules(child("block_categories: []")).children["sam"]
    assert sam.block_mask == mask_of(["illegal"])


def test_explicit_offline_replaces_the_preset_bedtime():
    sam = parse_rules(child("offline: []")).children["sam"]
    assert sam.offline == ()


def test_safe_search_false_turns_every_engine_off():
    sam = parse_rules(child("safe_search: false")).children["sam"]
    assert sam.safe_search == NO_SAFE_SEARCH


def test_safe_search_key_replaces_only_that_engine():
    teen = parse_rules("children:\n  alex: {age_band: 13_15, safe_search: {google: off}}\n")
    assert teen.children["alex"].safe_search == SafeSearch(False, True, True, YouTube.MODERATE)


def test_unquoted_youtube_off_means_off():
    sam = parse_rules(child("safe_search: {youtube: off}")).children["sam"]
    assert sam.safe_search.youtube is YouTube.OFF


def test_domains_are_stored_in_wire_form():
    sam = parse_rules(child("allow: [Example.COM.], deny: [bad.example]")).children["sam"]
    assert sam.allow == {domain_to_wire("example.com")}
    assert sam.deny == {domain_to_wire("bad.example")}


# Refusals: exact path and reason


def test_bad_time_is_refused_with_its_path():
    found = problems(child("offline: [{days: every_day, start: 9pm, end: '07:00'}]"))
    assert found == ["children.sam.offline[0].start: expected HH:MM, got '9pm'"]


def test_unknown_top_level_key_is_refused():
    found = problems("children: {}\nbedtime: '21:00'\n")
    assert found == [
        "bedtime: unknown key (known: children, devices, end_of_rules, timezone, unknown_devices)"
    ]


def test_unknown_key_in_a_child_is_refused():
    (found,) = problems(child("bedtime: '21:00'"))
    assert found.startswith("children.sam.bedtime: unknown key (known: age_band, allow, ")


def test_unknown_key_in_a_window_is_refused():
    found = problems(child("offline: [{days: every_day, start: '21:00', end: '07:00', why: x}]"))
    assert found == ["children.sam.offline[0].why: unknown key (known: days, end, start)"]


def test_unknown_category_in_block_categories_is_refused():
    (found,) = problems(child("block_categories: [adult, porn]"))
    assert found.startswith("children.sam.block_categories[1]: unknown category 'porn' (known: ")


def test_unknown_category_in_allowed_during_is_refused():
    text = child("allowed_during: [{categories: [games], start: '10:00', end: '12:00'}]")
    (found,) = problems(text)
    assert found.startswith("children.sam.allowed_during[0].categories[0]: unknown category")


def test_allowed_during_without_categories_is_refused():
    found = problems(child("allowed_during: [{days: [sat], start: '10:00', end: '12:00'}]"))
    assert found == [
        "children.sam.allowed_during[0].categories:"
        " required: the categories (or services) let through"
    ]


def test_allowed_during_cannot_let_illegal_through():
    text = child("allowed_during: [{categories: [illegal], start: '10:00', end: '12:00'}]")
    found = problems(text)
    assert found == [
        "children.sam.allowed_during[0].categories: illegal content cannot be let through"
    ]


def test_bad_day_name_is_refused():
    (found,) = problems(child("offline: [{days: [fri, funday], start: '21:00', end: '07:00'}]"))
    assert found == "children.sam.offline[0].days[1]: expected a day mon..sun, got 'funday'"


def test_a_single_day_may_be_written_alone_or_in_full():
    sam = parse_rules(child("offline: [{days: fri, start: '21:00', end: '07:00'}]")).children
    assert sam["sam"].offline[0].days == frozenset({4})
    sam = parse_rules(child("offline: [{days: [Saturday], start: '21:00', end: '24:00'}]"))
    assert sam.children["sam"].offline[0].days == frozenset({5})
    assert sam.children["sam"].offline[0].end == 0, "24:00 is the next midnight"


def test_a_word_that_only_starts_like_a_day_is_refused():
    (found,) = problems(child("offline: [{days: [monkey], start: '21:00', end: '07:00'}]"))
    assert found == "children.sam.offline[0].days[0]: expected a day mon..sun, got 'monkey'"


def test_bad_time_zone_is_refused():
    found = problems("children: {}\ntimezone: Mars/Olympus\n")
    assert found == [
        "timezone: unknown time zone 'Mars/Olympus' (a region and a city, for example"
        " Europe/London)"
    ]


def test_a_time_zone_without_its_city_is_refused_by_check_config(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        with_end_line("timezone: Europe\nchildren: {}\n")
    )  # names a directory of zones
    config = tmp_path / "filterd.yaml"
    config.write_text(
        f'listen: ["127.0.0.1:1053"]\nupstreams: ["127.0.0.1:53"]\nrules: "{rules}"\n'
    )
    result = run_cli("check-config", str(config))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{rules}: timezone: unknown time zone 'Europe' (a region and a city" in result.stdout


def test_bad_duration_is_refused_with_the_category_path():
    found = problems(child("limits: {gaming: lots}"))
    assert found == [
        "children.sam.limits.gaming: expected minutes or a duration like 2h or 1h30m "
        "(at most 24h), got 'lots'"
    ]


def test_duration_over_a_day_is_refused():
    (found,) = problems(child("limits: {overall: 25h}"))
    assert found.startswith("children.sam.limits.overall: expected minutes")


@pytest.mark.parametrize(("text", "minutes"), [(90, 90), ("90m", 90), ("2h", 120), ("1h30m", 90)])
def test_durations_in_each_written_form(text, minutes):
    sam = parse_rules(child(f"limits: {{overall: {text}}}")).children["sam"]
    assert sam.limits.overall == minutes


def test_unknown_override_kind_is_refused():
    found = problems(child("overrides: [{kind: holiday, until: '2026-11-22 20:00'}]"))
    assert found == [
        "children.sam.overrides[0].kind: expected one of pause, extra_time, lift_bedtime,"
        " allow_site, "
        "got 'holiday'"
    ]


def test_extra_time_without_until_is_refused():
    found = problems(child("overrides: [{kind: extra_time, minutes: 30}]"))
    assert found == ["children.sam.overrides[0].until: required for extra_time"]


def test_lift_bedtime_without_until_is_refused():
    found = problems(child("overrides: [{kind: lift_bedtime}]"))
    assert found == ["children.sam.overrides[0].until: required for lift_bedtime"]


def test_pause_without_until_lasts_until_removed():
    (pause,) = parse_rules(child("overrides: [{kind: pause}]")).children["sam"].overrides
    assert pause.kind is OverrideKind.PAUSE
    assert pause.until is None


def test_minutes_on_a_pause_is_refused():
    found = problems(child("overrides: [{kind: pause, minutes: 30}]"))
    assert found == ["children.sam.overrides[0].minutes: only extra_time takes minutes, not pause"]


def test_category_on_extra_time_must_be_known():
    text = child(
        "overrides: [{kind: extra_time, minutes: 30, category: fun, until: '2026-11-22 20:00'}]"
    )
    found = problems(text)
    assert found == [
        "children.sam.overrides[0].category: expected a category id for extra_time, got 'fun'"
    ]


def test_device_owner_must_be_a_child():
    found = problems(child("name: Sam", "devices:\n  - {ip: 10.0.0.5, owner: bob}\n"))
    assert found == ["devices[0].owner: unknown child 'bob' (children: sam; or none)"]


def test_device_needs_a_mac_or_an_ip():
    found = problems(child("name: Sam", "devices:\n  - {name: phone, owner: sam}\n"))
    assert found == ["devices[0]: needs a mac or an ip address"]


def test_duplicate_device_ip_is_refused():
    devices = "devices:\n  - {ip: 10.0.0.5, owner: sam}\n  - {ip: 10.0.0.5, owner: none}\n"
    found = problems(child("name: Sam", devices))
    assert found == ["devices[1].ip: 10.0.0.5 is already listed at devices[0]"]


def test_bad_device_ip_is_refused():
    found = problems(child("name: Sam", "devices:\n  - {ip: 10.0.0.256, owner: sam}\n"))
    assert found == ["devices[0].ip: expected an IP address, got '10.0.0.256'"]


def test_yaml_syntax_error_names_line_and_column():
    found = problems("timezone: Europe/London\nchildren:\n  sam: {age_band: 9_12\n")
    assert found == ["(file): line 4, column 1: expected ',' or '}', but got '<stream end>'"]


def test_python_tag_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "ran"
    (found,) = problems(f'timezone: !!python/object/apply:os.system ["touch {marker}"]\n')
    assert found.startswith("(file): line 1, column 11: could not determine a constructor")
    assert "python/object/apply:os.system" in found
    assert not marker.exists()


def test_top_level_list_is_refused():
    assert problems("- sam\n- alex\n") == ["(file): expected a mapping of keys at the top level"]


def test_an_empty_file_is_refused_rather_than_dropping_every_child():
    assert problems("") == ["children: required (write `children: {}` for a home with none)"]


def test_no_children_means_strict_unknown_devices():
    rules = parse_rules("children: {}\n")
    assert rules.children == {}
    assert rules.unknown is not None


def test_aliases_duplicate_keys_and_huge_numbers_are_refused():
    assert problems("children: {}\na: &x [1]\nb: *x\n") == [
        "(file): line 3, column 4: aliases (*name) are not allowed in this file"
    ]
    assert problems("children:\n  sam: {age_band: 9_12}\n  sam: {age_band: 13_15}\n") == [
        "(file): line 3, column 3: duplicate key 'sam'"
    ]
    assert problems(child("limits: {overall: 1" + "0" * 5000 + "}")) == [
        "(file): line 2, column 43: number too long"
    ]


def test_a_window_that_starts_when_it_ends_is_refused_unless_written_as_the_whole_day():
    (found,) = problems(child("offline: [{start: '20:00', end: '20:00'}]"))
    assert found == (
        "children.sam.offline[0].end: same as start: for the whole day write 00:00 to 24:00"
    )
    whole = parse_rules(child("offline: [{start: '00:00', end: '24:00'}]"))
    assert len(whole.children["sam"].offline) == 1


def test_every_problem_is_reported_at_once():
    text = (
        "timezone: Mars/Olympus\n"
        "colour: blue\n"
        "children:\n"
        "  sam:\n"
        "    age_band: 9_12\n"
        "    offline: [{days: [funday], start: 9pm, end: '07:00'}]\n"
        "    limits: {gaming: lots}\n"
        "    overrides: [{kind: extra_time, minutes: 30}]\n"
        "devices:\n"
        "  - {ip: 10.0.0.5, owner: bob}\n"
        "  - {name: nothing}\n"
    )
    found = problems(text)
    paths = [p.split(": ")[0] for p in found]
    assert sorted(paths) == sorted(
        [
            "colour",
            "timezone",
            "children.sam.offline[0].days[0]",
            "children.sam.offline[0].start",
            "children.sam.limits.gaming",
            "children.sam.overrides[0].until",
            "devices[0].owner",
            "devices[1]",
        ]
    )


# Override times


def test_override_time_in_november_is_home_time_equal_to_utc():
    (pause,) = (
        parse_rules(child("overrides: [{kind: pause, until: '2026-11-22 20:00'}]"))
        .children["sam"]
        .overrides
    )
    assert pause.until == utc(2026, 11, 22, 20, 0)


def test_override_time_in_july_is_british_summer_time():
    (pause,) = (
        parse_rules(child("overrides: [{kind: pause, until: '2026-07-01 20:00'}]"))
        .children["sam"]
        .overrides
    )
    assert pause.until == utc(2026, 7, 1, 19, 0)


def test_override_time_with_an_offset_keeps_its_offset():
    text = child("overrides: [{kind: lift_bedtime, until: '2026-07-01T20:00+02:00'}]")
    (lift,) = parse_rules(text).children["sam"].overrides
    assert lift.until == utc(2026, 7, 1, 18, 0)


def test_override_time_follows_the_file_time_zone():
    text = "timezone: America/New_York\n" + child(
        "overrides: [{kind: pause, until: '2026-11-22 20:00'}]"
    )
    (pause,) = parse_rules(text).children["sam"].overrides
    assert pause.until == utc(2026, 11, 23, 1, 0)


def test_extra_time_keeps_minutes_and_category():
    text = child(
        "overrides: [{kind: extra_time, minutes: 1h, category: gaming, until: '2026-11-22 21:00'}]"
    )
    (extra,) = parse_rules(text).children["sam"].overrides
    assert (extra.kind, extra.minutes, extra.category) == (OverrideKind.EXTRA_TIME, 60, "gaming")


def test_override_time_that_is_not_a_date_is_refused():
    found = problems(child("overrides: [{kind: pause, until: tomorrow}]"))
    assert found == [
        'children.sam.overrides[0].until: expected a date and time like "2026-11-22 20:00", '
        "got 'tomorrow'"
    ]


# Devices nobody listed


def test_unknown_devices_default_to_strict_profile_offline_every_night():
    unknown = parse_rules("children: {}\n").unknown
    assert unknown is not None
    assert unknown.counts_usage is False
    assert unknown.offline == (Window(ALL_DAYS, 22 * 60, 6 * 60),)
    assert unknown.block_mask == STRICT_PRESET.block_mask


def test_unknown_devices_household_has_no_profile():
    assert parse_rules("children: {}\nunknown_devices: household\n").unknown is None


def test_unknown_devices_age_band_gives_that_preset():
    unknown = parse_rules("children: {}\nunknown_devices: 13_15\n").unknown
    assert unknown is not None
    assert unknown.block_mask == PRESETS["13_15"].block_mask
    assert unknown.offline == PRESETS["13_15"].offline
    assert unknown.safe_search == PRESETS["13_15"].safe_search


def test_unknown_devices_other_value_is_refused():
    (found,) = problems("children: {}\nunknown_devices: open\n")
    assert found == (
        "unknown_devices: expected one of strict, household, under_9, 9_12, 13_15, 16_17, "
        "got 'open'"
    )


# A list or mapping where a single word belongs is refused like any other mistake


@pytest.mark.parametrize(
    "text",
    [
        child("name: Sam", "devices:\n  - {ip: 10.0.0.5, owner: [sam]}\n"),
        "children:\n  sam: {age_band: [9_12]}\n",
        child("block_categories: [{adult: yes}]"),
        "unknown_devices: [strict]\n",
        child(
            "overrides: [{kind: extra_time, minutes: 5, category: [gaming], "
            "until: '2026-11-22 20:00'}]"
        ),
    ],
    ids=["owner", "age_band", "block_categories", "unknown_devices", "override_category"],
)
def test_list_where_a_word_belongs_is_refused_not_crashed(text):
    assert problems(text)
