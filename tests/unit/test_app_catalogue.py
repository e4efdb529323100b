"""The shipped app catalogue and its loader: complete, honest about shared names, strict."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from filterd.catalogue.load import (
    CATALOGUE_FILE,
    KINDS,
    CatalogueError,
    load_catalogue,
    parse_catalogue,
)
from filterd.catalogue.model import KNOWLEDGE, KNOWLEDGE_TEXT
from filterd.catalogue.service import CatalogueService
from filterd.lists.categories import BY_ID
from filterd.lists.index import domain_to_wire
from filterd.lists.parse import normalise_domain, parse_list

CATALOGUE = load_catalogue()
ISSUE_NAMES = [
    "tiktok",
    "snapchat",
    "instagram",
    "facebook",
    "x",
    "threads",
    "bereal",
    "pinterest",
    "reddit",
    "tumblr",
    "yubo",
    "wizz",
    "whatsapp",
    "telegram",
    "signal",
    "discord",
    "messenger",
    "kik",
    "omegle",
    "roblox",
    "fortnite",
    "minecraft",
    "steam",
    "playstation",
    "xbox",
    "nintendo",
    "ea",
    "call_of_duty",
    "among_us",
    "twitch",
    "youtube",
    "netflix",
    "disney_plus",
    "prime_video",
    "bbc_iplayer",
    "spotify",
    "chatgpt",
    "gemini",
    "claude",
    "character_ai",
    "copilot",
    "tor",
    "google_play",
    "apple_app_store",
    "nordvpn",
    "expressvpn",
    "web_proxies",
    "cloudflare_dns",
    "google_dns",
]


def small(services: str, shared: str = "  shared.example: used by everyone\n", count=1) -> str:
    return (
        f"format: 1\nservices_count: {count}\nshared:\n{shared}services:\n{services}"
        "most_common: []\n"
    )


def one(domains: str, kind: str = "social", extra: str = "") -> str:
    return (
        f"  app:\n    name: App\n    kind: {kind}\n    domains: {domains}\n"
        f"    checked: 2026-11-27\n    source: knowledge\n{extra}"
    )


def test_the_catalogue_loads_with_at_least_120_services_of_every_kind():
    assert len(CATALOGUE.services) >= 120
    assert {s.kind for s in CATALOGUE.services.values()} == set(KINDS)
    assert set(ISSUE_NAMES) <= set(CATALOGUE.services)
    assert len(CATALOGUE.most_common) == 20


def test_every_service_has_domains_a_date_a_source_and_a_known_category():
    for service in CATALOGUE.services.values():
        assert service.domains, service.id
        assert service.name.strip(), service.id
        assert service.checked.year >= 2026, service.id
        assert service.source == KNOWLEDGE or service.source.startswith("https://")
        assert service.category is None or service.category in BY_ID
    assert CATALOGUE.services["tiktok"].source_text == KNOWLEDGE_TEXT


def test_no_shared_name_is_a_service_domain_or_counted_as_a_service():
    shared = set(CATALOGUE.shared)
    assert {"googleapis.com", "gstatic.com", "akamaized.net", "cloudfront.net", "apple.com"} <= (
        shared
    )
    for service_id in CATALOGUE.services:
        assert not set(CATALOGUE.services[service_id].domains) & shared, service_id
    for name in shared:
        for probe in (name, f"x1.{name}"):
            assert CATALOGUE.service_of(domain_to_wire(probe)) is None, probe


def test_the_most_specific_name_wins_between_shared_and_service_names():
    def of(name: str) -> str | None:
        service = CATALOGUE.service_of(domain_to_wire(name))
        return None if service is None else service.id

    assert of("youtubei.googleapis.com") == "youtube"  # a service name under a shared one
    assert of("www.googleapis.com") is None
    assert of("xsts.auth.xboxlive.com") is None  # a shared name under a service's domain
    assert of("title.mgt.xboxlive.com") == "xbox"
    assert of("api16-normal-c-useast1a.tiktokv.com") == "tiktok"
    assert of("unlisted.example") is None


def test_catalogue_names_are_normalised_as_list_entries_are():
    for service in CATALOGUE.services.values():
        for domain in service.domains:
            assert normalise_domain(domain) == domain
    catalogue = parse_catalogue(small(one("['*.App.EXAMPLE.', 'bücher.example']")))
    assert catalogue.services["app"].domains == ("app.example", "xn--bcher-kva.example")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (small(one("[shared.example]")), "services.app.domains[0]: shared.example is shared"),
        (small(one("['not a name']")), "services.app.domains[0]: not a domain name: 'not a name'"),
        (small(one("[]")), "services.app.domains: expected a list of the service's domains"),
        (small(one("[a.example]", kind="games")), "services.app.kind: expected one of social"),
        (small(one("[a.example]"), count=2), "services_count: says 2 but the file has 1"),
        (
            small(one("[a.example]").replace("  app:", "  gaming:")),
            "services.gaming: this id is a category or usage key",
        ),
        (
            small(one("[a.example]", extra="    category: games\n")),
            "services.app.category: expected a category id or none",
        ),
        (
            small(one("[a.example]").replace("source: knowledge", "source: checked live")),
            "services.app.source: expected knowledge or the https:// address",
        ),
    ],
)
def test_a_bad_catalogue_is_refused_with_the_key_and_the_reason(text, problem):
    with pytest.raises(CatalogueError) as refused:
        parse_catalogue(text)
    assert any(p.startswith(problem) for p in refused.value.problems), refused.value.problems


def test_a_domain_in_two_services_is_refused():
    two = one("[a.example]") + one("[a.example]").replace("  app:", "  other:")
    with pytest.raises(CatalogueError) as refused:
        parse_catalogue(small(two, count=2))
    assert refused.value.problems == [
        "services.other.domains[0]: a.example is already listed under app"
    ]


def test_a_swapped_catalogue_applies_and_a_bad_one_keeps_the_old(tmp_path: Path, caplog):
    path = tmp_path / "services.yaml"
    shutil.copy(CATALOGUE_FILE, path)
    apps = CatalogueService(path)
    apps.load()
    good = apps.current
    assert len(good.services) == len(CATALOGUE.services)
    text = path.read_text()
    path.write_text(text[: text.index("  youtube:")])  # cut short between two services
    with caplog.at_level(logging.ERROR):
        assert apps.refresh() is False
    assert apps.current is good
    assert "services_count: says" in caplog.text
    assert apps.failures == 1
    path.write_text(text.replace("    name: TikTok\n", "    name: TikTok (ByteDance)\n"))
    assert apps.refresh() is True
    assert apps.current.services["tiktok"].name == "TikTok (ByteDance)"


def test_no_category_reaches_an_essential_name_through_an_app():
    """The essential list (school platforms, app stores, BBC, NHS, gov.uk) is never blocked by a
    list; an app's names carry its category, so no app with a category may own one of them."""
    essential = parse_list((CATALOGUE_FILE.parent / "essential.txt").read_text()).blocked

    def under(name: str, parent: str) -> bool:
        return name == parent or name.endswith("." + parent)

    for service in CATALOGUE.services.values():
        if service.category is None:
            continue
        for domain in service.domains:
            clash = [e for e in essential if under(domain, e) or under(e, domain)]
            assert clash == [], (service.id, domain, clash)
    stores = [s for s in CATALOGUE.services.values() if s.kind == "app_store"]
    assert all(s.category is None for s in stores if s.id != "apk_sites")


def test_a_long_running_reader_sees_a_changed_catalogue_and_keeps_the_last_good(tmp_path):
    from filterd.catalogue.load import catalogue_at

    path = tmp_path / "services.yaml"
    text = CATALOGUE_FILE.read_text()
    path.write_text(text)
    first = catalogue_at(path)
    assert catalogue_at(path) is first  # unchanged: not read again
    path.write_text(text.replace("    name: TikTok\n", "    name: TikTok (renamed)\n"))
    assert catalogue_at(path).services["tiktok"].name == "TikTok (renamed)"
    good = catalogue_at(path)
    path.write_text("format: 1\n")  # refused
    assert catalogue_at(path) is good
    path.unlink()
    assert catalogue_at(path) is good
