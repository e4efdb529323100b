"""The running daemon refuses a rules file cut short, and an edit that empties every child or
device by accident; the rules in force keep answering (finding 1 of issue 11)."""

from __future__ import annotations

import yaml

from filterd.rules.guards import with_end_line
from tests.support.dns_client import addresses
from tests.support.filterd_process import wait_for
from tests.support.lists import blocked
from tests.support.loopback_home import CARER, SAM, base_rules


def household_rules() -> dict:
    return dict(base_rules(), unknown_devices="household")


def test_a_file_cut_before_devices_is_refused_and_sams_social_media_stays_blocked(loopback_home):
    whole = with_end_line(yaml.safe_dump(household_rules()))
    loopback_home.write_rules(whole)
    assert wait_for(
        lambda: loopback_home.filterd.metric("filterd_rules_reloads_total", outcome="ok") >= 2
    )
    assert blocked(loopback_home.ask(SAM, "social.example"))
    cut = whole[: whole.index("\ndevices:") + 1]  # still valid YAML: 2 children, no devices
    loopback_home.write_rules(cut)
    assert wait_for(lambda: loopback_home.filterd.metric("filterd_rules_valid") == 0, timeout=3)
    assert blocked(loopback_home.ask(SAM, "social.example")), "a cut-short file must not unlist Sam"
    assert addresses(loopback_home.ask(CARER, "social.example")) != ["0.0.0.0"]
    assert "end_of_rules: missing" in loopback_home.filterd.log()


def test_emptying_every_child_needs_the_word_none(loopback_home):
    loopback_home.write_rules(with_end_line(yaml.safe_dump(household_rules())))
    assert wait_for(lambda: loopback_home.filterd.metric("filterd_rules_children") == 2)
    emptied = dict(household_rules(), children={}, devices=[])
    loopback_home.write_rules(with_end_line(yaml.safe_dump(emptied)))
    assert wait_for(lambda: loopback_home.filterd.metric("filterd_rules_valid") == 0, timeout=3)
    assert blocked(loopback_home.ask(SAM, "social.example")), (
        "an accidental emptying is not applied"
    )
    assert "every child (2) would be removed at once" in loopback_home.filterd.log()
    meant = dict(household_rules(), children="none", devices="none")
    loopback_home.write_rules(with_end_line(yaml.safe_dump(meant)))
    assert wait_for(lambda: loopback_home.filterd.metric("filterd_rules_children") == 0, timeout=3)
    assert addresses(loopback_home.ask(SAM, "social.example")) != ["0.0.0.0"], "meant: applied"
