"""The search engines safe search knows, which of their names it rewrites, and to what.

ENGINES is the one list of them: the rules file's keys under `safe_search` (filterd.rules.parse),
the fields of SafeSearch (filterd.rules.model; a unit test holds them equal), the lines of a
rules change and of the rules in force (filterd.rules.changes), and the dashboard's form and
words (dashboard.data.child_form, rule_words). Adding an engine: a row in ENGINES, a field in
SafeSearch, and its names and safe variant in SWITCHED below.

The engines honour their safe variants for every search made through those addresses
(www.google.co.uk -> forcesafesearch.google.com). Worked out once per child from the rules
(filterd.rules.identify puts the table in each ChildState); the policy stage answers the
rewrite (filterd.policy.safesearch).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from filterd.lists.index import domain_to_wire
from filterd.lists.parse import parse_list
from filterd.rules.model import SafeSearch, YouTube


class Engine(NamedTuple):
    key: str  # under a profile's `safe_search` in the rules file, and SafeSearch's field
    label: str  # how pages and an agreement's lines name it


# Engines whose safe search is on or off, in the order pages show them.
ENGINES = (Engine("google", "Google"), Engine("bing", "Bing"), Engine("duckduckgo", "DuckDuckGo"))
YOUTUBE = Engine("youtube", "YouTube")  # a mode (off, moderate, strict), not on or off
SETTINGS = (*ENGINES, YOUTUBE)  # every key of a profile's `safe_search`
ENGINE_KEYS = tuple(engine.key for engine in ENGINES)
SETTING_KEYS = tuple(engine.key for engine in SETTINGS)

GOOGLE_DOMAINS = Path(__file__).resolve().parents[1] / "data" / "google_search_domains.txt"
GOOGLE_SAFE = "forcesafesearch.google.com"
YOUTUBE_NAMES = (
    "www.youtube.com",
    "m.youtube.com",
    "youtubei.googleapis.com",
    "youtube.googleapis.com",
    "www.youtube-nocookie.com",
)
YOUTUBE_SAFE = {
    YouTube.STRICT: "restrict.youtube.com",
    YouTube.MODERATE: "restrictmoderate.youtube.com",
}
BING_NAMES = ("bing.com", "www.bing.com")
BING_SAFE = "strict.bing.com"
DUCKDUCKGO_NAMES = ("duckduckgo.com", "www.duckduckgo.com", "start.duckduckgo.com")
DUCKDUCKGO_SAFE = "safe.duckduckgo.com"


@lru_cache(maxsize=1)
def google_names() -> tuple[str, ...]:
    """Every Google Search country domain, with and without www."""
    domains = parse_list(GOOGLE_DOMAINS.read_text("utf-8")).blocked
    return tuple(name for d in domains for name in (d, "www." + d))


# Each on-or-off engine's names (a function: Google's list is read from a file) and safe name.
SWITCHED: dict[str, tuple[Callable[[], tuple[str, ...]], str]] = {
    "google": (google_names, GOOGLE_SAFE),
    "bing": (lambda: BING_NAMES, BING_SAFE),
    "duckduckgo": (lambda: DUCKDUCKGO_NAMES, DUCKDUCKGO_SAFE),
}


@lru_cache(maxsize=64)
def rewrites(safe: SafeSearch) -> dict[bytes, bytes]:
    """Wire name -> wire name of its safe variant, for the engines this profile enforces."""
    pairs: list[tuple[tuple[str, ...], str]] = []
    for key in ENGINE_KEYS:
        if getattr(safe, key):
            names, target = SWITCHED[key]
            pairs.append((names(), target))
    if safe.youtube is not YouTube.OFF:
        pairs.append((YOUTUBE_NAMES, YOUTUBE_SAFE[safe.youtube]))
    return {domain_to_wire(n): domain_to_wire(target) for names, target in pairs for n in names}
