"""Which search engines' names a profile's safe search rewrites, and to what.

The engines honour their safe variants for every search made through those addresses
(www.google.co.uk -> forcesafesearch.google.com). Worked out once per child from the rules
(filterd.rules.identify puts the table in each ChildState); the policy stage answers the
rewrite (filterd.policy.safesearch).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from filterd.lists.index import domain_to_wire
from filterd.lists.parse import parse_list
from filterd.rules.model import SafeSearch, YouTube

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


@lru_cache(maxsize=64)
def rewrites(safe: SafeSearch) -> dict[bytes, bytes]:
    """Wire name -> wire name of its safe variant, for the engines this profile enforces."""
    pairs: list[tuple[tuple[str, ...], str]] = []
    if safe.google:
        pairs.append((google_names(), GOOGLE_SAFE))
    if safe.youtube is not YouTube.OFF:
        pairs.append((YOUTUBE_NAMES, YOUTUBE_SAFE[safe.youtube]))
    if safe.bing:
        pairs.append((BING_NAMES, BING_SAFE))
    if safe.duckduckgo:
        pairs.append((DUCKDUCKGO_NAMES, DUCKDUCKGO_SAFE))
    return {domain_to_wire(n): domain_to_wire(target) for names, target in pairs for n in names}
