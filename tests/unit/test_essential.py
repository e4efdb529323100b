"""Essential services (school platforms, app stores, NHS, gov.uk): no list can block them,
short of illegal content; helplines still rank above them."""

from __future__ import annotations

from pathlib import Path

from filterd.lists.categories import mask_of
from filterd.lists.index import domain_to_wire
from filterd.lists.parse import parse_list
from filterd.lists.service import load_protected
from filterd.lists.settings import SHIPPED_LISTS, BlocklistSettings, ListsUpdate
from filterd.lists.store import HELPLINE, ListStore
from filterd.lists.update import build_index, index_path
from filterd.rules.decide import judge, situation
from filterd.rules.parse import parse_rules
from tests.support.shipped_lists import shipped_store

ESSENTIAL = set(parse_list((SHIPPED_LISTS / "essential.txt").read_text()).blocked)
HELPLINES = set(parse_list((SHIPPED_LISTS / "helplines.txt").read_text()).blocked)
GAMING, MESSAGING, ILLEGAL = (mask_of([c]) for c in ("gaming", "messaging", "illegal"))


def wire(name: str) -> bytes:
    return domain_to_wire(name)


def store_with_downloads(tmp_path: Path, **lists: list[str]) -> ListStore:
    """The project's shipped lists plus local-file sources, as a home's config names them."""
    sources = {}
    for category, names in lists.items():
        path = tmp_path / f"downloaded-{category}.txt"
        path.write_text("".join(f"0.0.0.0 {name}\n" for name in names))
        sources[category] = (path.as_uri(),)
    settings = BlocklistSettings(
        lists=sources, lists_update=ListsUpdate(directory=tmp_path / "lists")
    )
    build_index(settings, online=False)
    store = ListStore(index_path(settings), *load_protected(settings))
    assert store.refresh()
    return store


def test_the_essential_list_names_the_services_schools_and_homes_need():
    for name in (
        "sparxmaths.uk",
        "ttrockstars.com",
        "teams.microsoft.com",
        "classroom.google.com",
        "thenational.academy",
        "bbc.co.uk",
        "apps.apple.com",
        "play.google.com",
        "gov.uk",
        "nhs.scot",
    ):
        assert name in ESSENTIAL


def test_a_downloaded_list_naming_an_essential_service_does_not_block_it(tmp_path):
    """A real public list filed Teams under chat and Sparx under games."""
    store = store_with_downloads(
        tmp_path,
        gaming=["sparxmaths.uk", "play.ttrockstars.com", "some-game.example"],
        messaging=["teams.microsoft.com", "chat-app.example"],
    )
    assert store.categories(wire("sparxmaths.uk")) == 0
    assert store.categories(wire("play.ttrockstars.com")) == 0
    assert store.categories(wire("teams.microsoft.com")) == 0
    # The rest of those lists still works.
    assert store.categories(wire("some-game.example")) == GAMING
    assert store.categories(wire("www.chat-app.example")) == MESSAGING
    store.close()


def test_a_child_whose_gaming_is_blocked_still_reaches_sparx(tmp_path):
    store = store_with_downloads(tmp_path, gaming=["sparxmaths.uk", "some-game.example"])
    child = parse_rules(
        "children:\n  sam: {age_band: 13_15, block_categories: [gaming]}\n"
    ).children["sam"]
    now = situation(child, {}, 1_795_186_800.0, parse_rules("children: {}\n").timezone)
    for name, blocked in (("sparxmaths.uk", False), ("some-game.example", True)):
        verdict = judge(wire(name), store.categories(wire(name)), child, now, ILLEGAL)
        assert verdict.blocked is blocked, name
    store.close()


def test_illegal_content_wins_even_over_an_essential_name(tmp_path):
    store = store_with_downloads(tmp_path, illegal=["compromised.sparxmaths.uk"])
    assert store.categories(wire("compromised.sparxmaths.uk")) == ILLEGAL
    assert store.categories(wire("sparxmaths.uk")) == 0
    store.close()


def test_a_helpline_under_an_essential_domain_stays_a_helpline(tmp_path):
    store = shipped_store(tmp_path)
    assert "childrenscommissioner.gov.uk" in HELPLINES and "gov.uk" in ESSENTIAL
    assert store.categories(wire("www.childrenscommissioner.gov.uk")) & HELPLINE
    assert not store.categories(wire("www.gov.uk")) & HELPLINE
    store.close()


def test_no_shipped_category_list_names_an_essential_service_or_its_parent():
    """The shipped lists must agree with the essential list, not rely on it."""

    def parents(name: str) -> set[str]:
        labels = name.split(".")
        return {".".join(labels[i:]) for i in range(len(labels))}

    for path in SHIPPED_LISTS.glob("*.txt"):
        if path.name in ("essential.txt", "helplines.txt"):
            continue
        for name in parse_list(path.read_text()).blocked:
            clash = parents(name) & ESSENTIAL or {e for e in ESSENTIAL if name in parents(e)}
            assert not clash, f"{path.name} lists {name}, which covers essential {clash}"


def test_a_home_adds_its_own_school_to_the_essential_names(tmp_path):
    from filterd.config import ConfigError, parse_config

    base = "listen: ['127.0.0.1:5353']\nupstreams: ['127.0.0.1:53']\n"
    config = parse_config(base + "essential: [our-school.example]\n")
    path = tmp_path / "downloaded.txt"
    path.write_text("our-school.example\n")
    settings = BlocklistSettings(
        lists={"gaming": (path.as_uri(),)},
        lists_update=ListsUpdate(directory=tmp_path / "lists"),
        essential=config.blocklists.essential,
    )
    build_index(settings, online=False)
    store = ListStore(index_path(settings), *load_protected(settings))
    store.refresh()
    assert store.categories(wire("www.our-school.example")) == 0
    store.close()
    try:
        parse_config(base + "essential: [not a name]\n")
    except ConfigError as err:
        assert "essential[0]" in str(err)
    else:
        raise AssertionError("a bad essential name was accepted")
