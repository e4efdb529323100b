"""The catalogue of public block lists a home may subscribe to: blocklists/sources.yaml.

It is a catalogue, not configuration: the daemon downloads only the sources the config's
`lists` key names (filterd.lists.update), so nothing here changes what a running filterd
blocks. It is read for people: the example config's `#+` subscriptions the installer turns on
are taken from it (tests/test_install.py checks they match), and Health's list advice says
whether a public list exists for a nearly empty category. This module is the code's one
reader of it, so the file's shape is known in one place.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import yaml

from filterd.lists.categories import BY_ID
from filterd.lists.settings import SHIPPED_LISTS

SOURCES_FILE = "sources.yaml"
FORMATS = frozenset({"hosts", "domains", "adblock"})
FIELDS = ("name", "url", "format", "licence", "note")


class PublicSource(NamedTuple):
    name: str  # the stable identifier a person uses to pick it
    url: str
    format: str  # hosts, domains or adblock
    licence: str
    note: str


class SourcesError(ValueError):
    """The catalogue cannot be read; the message names the key and what is wrong."""


def load_public_sources(shipped: Path = SHIPPED_LISTS) -> dict[str, list[PublicSource]]:
    """Every category's public sources, in the file's order (a category may have none)."""
    path = shipped / SOURCES_FILE
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise SourcesError(f"{path}: {err}") from None
    sources = raw.get("sources") if isinstance(raw, dict) else None
    if not isinstance(sources, dict):
        raise SourcesError(f"{path}: sources: expected a mapping of category to sources")
    catalogue: dict[str, list[PublicSource]] = {}
    for category, entries in sources.items():
        where = f"{path}: sources.{category}"
        if category not in BY_ID:
            raise SourcesError(f"{where}: not a category filterd knows")
        if not isinstance(entries, list):
            raise SourcesError(f"{where}: expected a list of sources")
        catalogue[category] = [_source(entry, f"{where}[{i}]") for i, entry in enumerate(entries)]
    return catalogue


def categories_with_public_sources(shipped: Path = SHIPPED_LISTS) -> set[str]:
    """Categories some public list covers; none when the catalogue cannot be read (advice
    then says less, and nothing else depends on it)."""
    try:
        return {category for category, found in load_public_sources(shipped).items() if found}
    except SourcesError:
        return set()


def _source(entry: object, where: str) -> PublicSource:
    if not isinstance(entry, dict):
        raise SourcesError(f"{where}: expected a mapping with {', '.join(FIELDS)}")
    for key in FIELDS:
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise SourcesError(f"{where}.{key}: expected text")
    if entry["format"] not in FORMATS:
        raise SourcesError(f"{where}.format: expected one of {', '.join(sorted(FORMATS))}")
    return PublicSource(*(entry[key] for key in FIELDS))
