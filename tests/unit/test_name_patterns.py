"""Name patterns: names built to be found get their category, support services never do."""

from __future__ import annotations

from pathlib import Path

import pytest

from filterd.lists.categories import mask_of
from filterd.lists.index import domain_to_wire
from filterd.lists.parse import parse_list
from filterd.lists.patterns import FILE_NAME, NamePatterns, parse_patterns
from filterd.lists.service import load_protected
from filterd.lists.settings import SHIPPED_LISTS, BlocklistSettings, ListsUpdate
from filterd.lists.store import HELPLINE, ListStore
from filterd.lists.update import build_index, index_path

SHIPPED_TEXT = (SHIPPED_LISTS / FILE_NAME).read_text()
PATTERNS, PROBLEMS = parse_patterns(SHIPPED_TEXT)
PATTERN_CATEGORIES = ("self_harm", "eating_disorders", "extremism", "hate", "weapons_violence")


def shipped_names(file_name: str) -> list[str]:
    return parse_list((SHIPPED_LISTS / file_name).read_text()).blocked


def test_every_shipped_pattern_line_is_used():
    assert PROBLEMS == []
    assert {category for category, _ in PATTERNS.rules} == set(PATTERN_CATEGORIES)


@pytest.mark.parametrize("file_name", ["helplines.txt", "essential.txt"])
def test_no_pattern_matches_a_helpline_or_an_essential_name(file_name):
    """Checked on the patterns alone, before the store's precedence would hide a mistake."""
    names = shipped_names(file_name)
    assert len(names) > 50
    for name in names:
        for variant in (name, f"www.{name}", f"help.{name}"):
            assert PATTERNS.matches(variant) == [], variant


@pytest.mark.parametrize(
    "file_name",
    [
        f"{c}.txt"
        for c in ("social", "messaging", "gaming", "streaming", "ai_chat", "dating", "bypass")
    ]
    + ["gambling.txt", "scams.txt", "piracy.txt", "malware_phishing.txt", "drugs.txt"],
)
def test_patterns_catch_nothing_in_the_everyday_categories(file_name):
    for name in shipped_names(file_name):
        assert PATTERNS.matches(name) == [], name


def test_patterns_catch_no_name_of_the_app_catalogue():
    """A pattern must never put TikTok's CDN or a game's login in a harm category."""
    from filterd.catalogue.load import load_catalogue

    catalogue = load_catalogue()
    names = [d for service in catalogue.services.values() for d in service.domains]
    assert len(names) > 300
    for name in [*names, *catalogue.shared]:
        assert PATTERNS.matches(name) == [], name


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("myproana.com", "eating_disorders"),
        ("proana-tips.blog.example", "eating_disorders"),
        ("www.thinspo-world.example", "eating_disorders"),
        ("thinspiration.forum.example", "eating_disorders"),
        ("ana-buddy.example", "eating_disorders"),
        ("sanctioned-suicide.net", "self_harm"),
        ("howtokillyourself.example", "self_harm"),
        ("painless-suicide.example", "self_harm"),
        ("suicide-methods.wiki.example", "self_harm"),
        ("seegore.com", "weapons_violence"),
        ("ghostgunner.net", "weapons_violence"),
        ("zombie-knives.shop.example", "weapons_violence"),
        ("atomwaffen.example", "extremism"),
        ("siegheil.example", "extremism"),
        ("holohoax.example", "hate"),
        ("incels.is", "hate"),
    ],
)
def test_names_built_to_be_found_get_their_category(name, category):
    assert PATTERNS.matches(name) == [category]


@pytest.mark.parametrize(
    "name",
    [
        "proanalytics.example",  # analytics, not anorexia
        "proanatomy.example",
        "promiami.example",
        "sarahowards.example",  # "rahowa" inside a surname
        "gorenje.example",  # "gore" inside a brand
        "wincell.example",  # "incel" inside a word
        "algorithms.example",
        "thinkpad.example",
        "www.14881.example",
        "cdn1488.example.net",  # a numbered server, not the slogan
        "host-1488a.example",
        "suicidepreventionlifeline.org",
        "anorexia-support.example",
    ],
)
def test_everyday_words_that_contain_a_pattern_word_are_not_caught(name):
    assert PATTERNS.matches(name) == []


@pytest.mark.parametrize(
    "name",
    [
        "proana-recovery.example",
        "thinspo-awareness.example",
        "stop-suicide-methods.example",
        "anti-white-genocide-myth.example",
        "ghostguns.police.uk",
        "exitbag.research.ac.uk",
        "incel-research.example",
    ],
)
def test_exceptions_clear_recovery_services_and_public_bodies(name):
    without = NamePatterns(list(PATTERNS.rules), [])
    assert without.matches(name) != []  # the name does contain a pattern...
    assert PATTERNS.matches(name) == []  # ...and an exception clears it


def test_a_bad_pattern_line_is_reported_by_number_and_the_rest_stay():
    patterns, problems = parse_patterns(
        "# comment\n"
        "eating_disorders thinspo\n"
        "self_harm (unclosed\n"
        "no_such_category anything\n"
        "hate .*\n"
        "extremism (?P<x>atomwaffen)\n"
    )
    assert [p.line for p in problems] == [3, 4, 5, 6]
    assert "not a regular expression" in problems[0].reason
    assert "unknown category 'no_such_category'" in problems[1].reason
    assert "every name" in problems[2].reason
    assert patterns.matches("thinspo.example") == ["eating_disorders"]


def make_store(tmp_path: Path, patterns: str, helplines=(), essential=()) -> ListStore:
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / FILE_NAME).write_text(patterns)
    (shipped / "essential.txt").write_text("".join(f"{n}\n" for n in essential))
    settings = BlocklistSettings(
        helplines=tuple(helplines),
        lists_update=ListsUpdate(directory=tmp_path / "lists", shipped=shipped),
    )
    build_index(settings, online=False)
    store = ListStore(index_path(settings), *load_protected(settings))
    store.refresh()
    return store


def test_the_store_gives_a_pattern_match_its_category_but_never_to_protected_names(tmp_path):
    store = make_store(
        tmp_path,
        "eating_disorders thinspo\n",
        helplines=["thinspo-helpline.example"],
        essential=["thinspo-school.example"],
    )
    wire = domain_to_wire
    assert store.categories(wire("m.thinspo.example")) == mask_of(["eating_disorders"])
    assert store.categories(wire("thinspo-helpline.example")) == HELPLINE
    assert store.categories(wire("www.thinspo-school.example")) == 0
    store.close()


def test_a_name_is_matched_against_the_patterns_once(tmp_path):
    store = make_store(tmp_path, "eating_disorders thinspo\n")
    searched: list[bytes] = []

    class Counting(NamePatterns):
        def mask(self, qname: bytes) -> int:
            searched.append(qname)
            return super().mask(qname)

    store.protect(frozenset(), frozenset(), Counting(list(store.patterns.rules), []))
    for _ in range(3):
        store.categories(domain_to_wire("thinspo.example"))
        store.categories(domain_to_wire("ordinary.example"))
    assert searched == [domain_to_wire("thinspo.example"), domain_to_wire("ordinary.example")]
    store.close()


def test_an_unreadable_patterns_file_keeps_the_patterns_in_force(tmp_path):
    store = make_store(tmp_path, "eating_disorders thinspo\n")
    path = tmp_path / "shipped" / FILE_NAME
    path.unlink()
    path.mkdir()  # reading it now fails with an OSError
    settings = BlocklistSettings(lists_update=ListsUpdate(shipped=tmp_path / "shipped"))
    store.protect(*load_protected(settings, store.patterns))
    assert store.categories(domain_to_wire("thinspo.example")) == mask_of(["eating_disorders"])
    store.close()


@pytest.mark.parametrize(
    ("pattern", "loose"),
    [
        ("(?<![a-z])pro-?ana(?![a-z])", "pro-?ana"),
        ("a(?=(b|c))d", "ad"),
        (r"x[(?!]y\(?!z", r"x[(?!]y\(?!z"),  # a class and an escape are not groups
        ("[]a(](?<!q)b", "[]a(]b"),
        ("(?:keep)(?<=(?:p)|(?:q))", "(?:keep)"),
    ],
)
def test_the_prefilter_drops_assertions_and_nothing_else(pattern, loose):
    from filterd.lists.patterns import without_assertions

    assert without_assertions(pattern) == loose


def test_the_prefilter_matches_every_name_the_patterns_match():
    """The fast first search may only let through more names, never fewer."""
    import re

    from filterd.lists.patterns import without_assertions

    names = [
        n for path in SHIPPED_LISTS.glob("*.txt") for n in parse_list(path.read_text()).blocked
    ]
    names += ["proana.example", "x-proana-y.example", "www.1488.example", "incel.example"]
    for category, pattern in PATTERNS.rules:
        strict = re.compile(pattern)
        loose = re.compile(without_assertions(pattern))
        for name in names:
            for variant in (name, f"a{name}", f"{name}s", f"1-{name}"):
                if strict.search(variant):
                    assert loose.search(variant), (category, pattern, variant)
