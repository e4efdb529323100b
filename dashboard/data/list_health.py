"""Health's blocklist part: per category, how many sites it blocks and when its lists were last
downloaded, in words, and the warnings a carer can act on (a category someone relies on that
blocks almost nothing; lists that have not been refreshed for days).

The figures come from the lists' own status file (filterd/lists/update.py's read_status, its
one reader); who relies on a category comes from the rules in force and the household floor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dashboard.data.when_words import ago
from filterd.lists.categories import CATEGORIES, ids_of, label_of
from filterd.lists.freshness import STALE_DAYS, is_stale, last_good
from filterd.lists.patterns import load_patterns
from filterd.lists.public_sources import categories_with_public_sources
from filterd.lists.settings import BlocklistSettings
from filterd.lists.update import read_status
from filterd.rules.model import Rules
from filterd.text.redact import redact_text, redact_url

THIN_BELOW = 20  # a blocked category with fewer sites than this is "nearly empty"
_OUTCOMES = {
    "updated": "downloaded",
    "not_modified": "checked, unchanged",
    "offline": "not checked yet since filterd started",
    "failed": "failed",
}


@dataclass(frozen=True)
class CategoryRow:
    label: str
    domains: int
    updated: str  # "updated 3 hours ago", "shipped with filterd", "not downloaded yet"
    stale: bool = False
    thin: bool = False


@dataclass(frozen=True)
class SourceRow:
    category: str
    source: str  # the address, credentials hidden
    outcome: str  # in words
    reason: str
    domains: int
    bad_lines: int = 0  # lines of the list that could not be read (so block nothing)


@dataclass(frozen=True)
class ListHealth:
    domains: int
    rows: list[CategoryRow]
    warnings: list[str] = field(default_factory=list)
    sources: list[SourceRow] = field(default_factory=list)


def list_health(settings: BlocklistSettings, rules: Rules | None, now: float) -> ListHealth | None:
    """None until filterd has built its first index (no status file yet)."""
    status = read_status(settings)
    if not isinstance(status, dict):
        return None
    counts = status.get("categories") if isinstance(status.get("categories"), dict) else {}
    sources = [s for s in status.get("sources") or [] if isinstance(s, dict)]
    relied = who_blocks(settings, rules)
    patterned = _patterned(settings)
    public = categories_with_public_sources()
    rows: list[CategoryRow] = []
    stale: list[str] = []
    thin: dict[tuple[str, str], list[str]] = {}  # (cause, who) -> ["self-harm (2 sites)"]
    for category in CATEGORIES:
        if category.id == "illegal" and not settings.lists.get("illegal"):
            continue  # nothing ships for it; an organisation's licensed list adds it
        domains = _int(counts.get(category.id))
        own = [s for s in sources if s.get("category") == category.id]
        updated, is_stale = _freshness(own, bool(settings.lists.get(category.id)), now)
        is_thin = category.id in relied and domains < THIN_BELOW
        rows.append(CategoryRow(category.label, domains, updated, is_stale, is_thin))
        if is_stale:
            stale.append(category.label)
        if is_thin:
            cause = _cause(category.id, bool(own), any(_done(s) for s in own), public)
            also = ", and names built to be found" if category.id in patterned else ""
            who = _and(relied[category.id])
            thin.setdefault((cause, who), []).append(f"{category.label} ({_sites(domains)}{also})")
    causes = list(ADVICE)
    warnings = [
        f"Nearly empty for {who}: {_and(entries)}. {ADVICE[cause]}"
        for (cause, who), entries in sorted(thin.items(), key=lambda i: causes.index(i[0][0]))
    ]
    if stale:
        warnings.append(
            f"Out of date: the lists for {_and(stale)} were last downloaded more than "
            f"{STALE_DAYS} days ago. The older copies keep blocking meanwhile. Check that the "
            "box can reach the internet; the problem each list had is under “Where the lists "
            "come from”."
        )
    return ListHealth(
        domains=_int(status.get("domains")),
        rows=rows,
        warnings=warnings,
        sources=[
            SourceRow(
                label_of(str(s.get("category", ""))),
                redact_url(str(s.get("source", ""))),
                _OUTCOMES.get(str(s.get("status", "")), str(s.get("status", ""))),
                redact_text(str(s.get("reason", ""))),
                _int(s.get("domains")),
                _int(s.get("bad_lines")),
            )
            for s in sources
        ],
    )


def who_blocks(settings: BlocklistSettings, rules: Rules | None) -> dict[str, list[str]]:
    """Each blocked category and who it is blocked for, as a carer names them."""
    who: dict[str, list[str]] = {}
    for category in sorted(settings.block_categories):
        who.setdefault(category, []).append("everyone")
    if rules is not None:
        profiles = [(p.name or p.id, p) for p in rules.children.values()]
        if rules.unknown is not None:
            profiles.append(("devices nobody has assigned", rules.unknown))
        for name, profile in profiles:
            for category in ids_of(profile.block_mask):
                who.setdefault(category, []).append(name)
    who.pop("illegal", None)  # nothing public exists; Health does not nag about it
    return who


def _freshness(sources: list[dict[str, Any]], subscribed: bool, now: float) -> tuple[str, bool]:
    """(words for when the category was last updated, whether that is more than STALE_DAYS)."""
    if not subscribed:
        return "shipped with filterd", False
    stale = any(is_stale(s, now) for s in sources)
    done = [t for t in map(last_good, sources) if t is not None]
    if not done:
        return "not downloaded yet", stale
    words = f"updated {ago(now - min(done))}"
    if len(done) < len(sources):
        words += " (one of its lists not downloaded yet)"
    return words, stale


# Why categories are nearly empty, and what a carer can do, in the order Health lists them.
ADVICE = {
    "waiting": (
        "Their lists have not been downloaded yet; until they are, the small lists shipped with "
        "filterd are used. Check that the box can reach the internet."
    ),
    "unsubscribed": (
        "The box downloads no list for them: ask whoever looks after the box to subscribe them "
        "to the public lists the filterd guide names."
    ),
    "no_public_list": (
        "No public list covers them. If your safeguarding lead knows sites to add, ask whoever "
        "looks after the box to add them as a local list."
    ),
    "small_download": (
        "The lists they download are nearly empty: ask whoever looks after the box to check them."
    ),
}


def _cause(category: str, subscribed: bool, downloaded: bool, public: set[str]) -> str:
    """Which of ADVICE explains a nearly empty category."""
    if subscribed:
        return "small_download" if downloaded else "waiting"
    return "unsubscribed" if category in public else "no_public_list"


def _sites(domains: int) -> str:
    return "1 site" if domains == 1 else f"{domains:,} sites"


def _done(source: dict[str, Any]) -> bool:
    return last_good(source) is not None


def _patterned(settings: BlocklistSettings) -> set[str]:
    """Categories the shipped name patterns give (self-harm, eating disorders...)."""
    patterns = load_patterns(settings.lists_update.shipped)
    return {category for category, _ in patterns.rules} if patterns is not None else set()


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
