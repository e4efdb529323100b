"""A name built to be found cannot escape the name patterns by adding a kind word (check16).

The exceptions that clear a pattern match (recovery services, prevention charities) once
included everyday words (support, help, hope, academy) and were searched in the whole name,
top-level domain included, so `proana-support.com`, `thinspo.support` or `proana.help`
resolved for a child whose profile blocks eating_disorders. Recovery and prevention names
must still be left alone.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from filterd.lists.patterns import load_patterns

PATTERNS = load_patterns(Path(__file__).resolve().parents[2] / "blocklists")


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("proana-support.com", "eating_disorders"),
        ("thinspo-help.net", "eating_disorders"),
        ("thinspohope.com", "eating_disorders"),
        ("proanacoach-hope.com", "eating_disorders"),
        ("proana.help", "eating_disorders"),
        ("thinspo.support", "eating_disorders"),
        ("thinspo.academy", "eating_disorders"),
        ("suicidekits-academy.com", "self_harm"),
        ("suicide-methods.therapy", "self_harm"),
        ("proana.recovery", "eating_disorders"),
    ],
)
def test_a_kind_word_or_top_level_domain_does_not_clear_a_match(name, category):
    assert category in PATTERNS.matches(name)


@pytest.mark.parametrize(
    "name",
    [
        "proana-recovery.org",
        "thinspo-recovery-support.org.uk",
        "stopthinspo.org",
        "beyond-thinspo.com",
        "suicide-prevention-methods.org",
        "thinspo-awareness.org.uk",
        "proana-helpline.org",
        "pro-ana-counselling.co.uk",
        "thinspo-research.ac.uk",
    ],
)
def test_recovery_and_prevention_names_are_still_cleared(name):
    assert PATTERNS.matches(name) == []


@pytest.mark.parametrize(
    "name",
    [
        "proana-tips.antiquesblog.com",
        "thinspo.stopover.net",
        "proana.dontpanic.blog",
        "suicide-methods.beyondblog.com",
        "exitbag.fightclub.example",
    ],
)
def test_a_host_whose_name_starts_with_a_campaign_word_does_not_clear_a_match(name):
    assert PATTERNS.matches(name) != []


@pytest.mark.parametrize(
    "name",
    [
        "stopthinspo.org",
        "anti-proana.org",
        "beyond-thinspo.com",
        "dont-kill-yourself.org",
        "life-after-self-harm.org",
        "fight-the-thinspo.org",
        "againstpro-ana.org",
        "stop-the-hate-incels.org",
    ],
)
def test_a_campaign_against_the_harm_is_still_cleared(name):
    assert PATTERNS.matches(name) == []
