"""Read and check a catalogue file (blocklists/services.yaml), reporting problems by key path.

Every problem names its key (`services.tiktok.domains[3]: not a domain name: 'tik tok'`);
a file with any problem is refused whole, so the catalogue in force never changes by half.
Domains are normalised exactly as list entries are (filterd.lists.parse.normalise_domain).
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path
from typing import Any

from filterd.catalogue.model import KNOWLEDGE, Catalogue, Service
from filterd.lists.categories import BY_ID
from filterd.lists.index import domain_to_wire
from filterd.lists.parse import normalise_domain
from filterd.rules.yaml_loader import load_plain
from filterd.text.people import text_problem
from filterd.validate import ConfigError, Validator, read_mapping, show

CATALOGUE_FILE = Path(__file__).resolve().parents[2] / "blocklists" / "services.yaml"
FORMAT = 1
MAX_CATALOGUE_BYTES = 2 * 1024 * 1024
TOP_KEYS = {"format", "services_count", "most_common", "shared", "services"}
SERVICE_KEYS = {"name", "kind", "category", "domains", "checked", "source", "note"}
# How the Apps screen groups services; a kind that is a category id is also its category.
KINDS = (
    "social",
    "messaging",
    "stranger_chat",
    "gaming",
    "streaming",
    "ai_chat",
    "dating",
    "app_store",
    "bypass",
)
# Kinds that are not categories: the category their services fall under by default. App
# stores have none (they are essential: only a carer's choice for the store blocks one).
KIND_FALLBACK: dict[str, str | None] = {"app_store": None}
RESERVED_IDS = {"overall"} | set(BY_ID)  # usage keys and limit keys beside service ids
MAX_NAME = 64  # an app's name, as a child's name in the rules (the Apps screen and EDE text)
MAX_NOTE = 1000  # one line shown on the app's page
_SERVICE_ID = re.compile(r"[a-z0-9][a-z0-9_]{0,39}")


class CatalogueError(ConfigError):
    """The catalogue file was refused; `problems` lists each as `key.path: reason`."""


def load_catalogue(path: Path = CATALOGUE_FILE) -> Catalogue:
    """Read and check a catalogue file; raise CatalogueError listing every problem."""
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_CATALOGUE_BYTES + 1)
        if len(data) > MAX_CATALOGUE_BYTES:
            raise CatalogueError([f"(file): larger than {MAX_CATALOGUE_BYTES // 1024} KiB"])
        text = data.decode("utf-8")
    except OSError as err:
        raise CatalogueError([f"(file): cannot read: {err.strerror}"]) from None
    except UnicodeDecodeError as err:
        raise CatalogueError([f"(file): not UTF-8 text: {err.reason}"]) from None
    return parse_catalogue(text)


def parse_catalogue(text: str) -> Catalogue:
    raw = read_mapping(text, load_plain, CatalogueError)
    reader = _CatalogueReader()
    catalogue = reader.catalogue(raw)
    if reader.problems:
        raise CatalogueError(reader.problems)
    return catalogue


class _CatalogueReader(Validator):
    def catalogue(self, raw: dict[str, Any]) -> Catalogue:
        self.mapping(raw, "", TOP_KEYS)
        if raw.get("format") != FORMAT:
            self.fail("format", f"expected {FORMAT}, got {show(raw.get('format'))}")
        shared = self.shared(raw.get("shared"))
        names: dict[bytes, Service | None] = {domain_to_wire(d): None for d in shared}
        owner: dict[str, str] = {}
        services: dict[str, Service] = {}
        raw_services = raw.get("services")
        if not isinstance(raw_services, dict) or not raw_services:
            self.fail("services", f"expected a mapping of services, got {show(raw_services)}")
            raw_services = {}
        count = raw.get("services_count")
        if count != len(raw_services):
            self.fail(
                "services_count",
                f"says {show(count)} but the file has {len(raw_services)} services"
                " (a file cut short is refused; correct the count after an edit)",
            )
        for service_id, body in raw_services.items():
            path = f"services.{service_id}"
            if not isinstance(service_id, str) or not _SERVICE_ID.fullmatch(service_id):
                self.fail(path, "ids are lower-case letters, digits and _ (at most 40)")
                continue
            if service_id in RESERVED_IDS:
                self.fail(path, "this id is a category or usage key; choose another")
                continue
            service = self.service(service_id, body, path, shared, owner)
            if service is not None:
                services[service_id] = service
                for domain in service.domains:
                    names[domain_to_wire(domain)] = service
        most_common = self.most_common(raw.get("most_common", []), services)
        return Catalogue(services, shared, most_common, names)

    def shared(self, raw: Any) -> dict[str, str]:
        if not isinstance(raw, dict):
            self.fail("shared", f"expected a mapping of domain: who shares it, got {show(raw)}")
            return {}
        found = {}
        for key, why in raw.items():
            domain = normalise_domain(key) if isinstance(key, str) else None
            if domain is None:
                self.fail(f"shared.{key}", f"not a domain name: {show(key)}")
            elif not isinstance(why, str) or not why.strip():
                self.fail(f"shared.{key}", "say in plain words which services share it")
            elif (problem := text_problem(why, MAX_NOTE)) is not None:
                self.fail(f"shared.{key}", f"one line of text: {problem}")
            else:
                found[domain] = why.strip()
        return found

    def service(
        self, service_id: str, raw: Any, path: str, shared: dict[str, str], owner: dict[str, str]
    ) -> Service | None:
        if not isinstance(raw, dict):
            self.fail(path, f"expected a mapping with name, kind and domains, got {show(raw)}")
            return None
        raw = self.mapping(raw, path, SERVICE_KEYS)
        problems_before = len(self.problems)
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            self.fail(f"{path}.name", f"expected the name a carer knows, got {show(name)}")
        elif (problem := text_problem(name, MAX_NAME)) is not None:
            self.fail(f"{path}.name", f"a name is printable text: {problem}")
        kind = raw.get("kind")
        if kind not in KINDS:
            self.fail(f"{path}.kind", f"expected one of {', '.join(KINDS)}, got {show(kind)}")
        category = self.category(raw, kind, path)
        domains = self.domains(raw.get("domains"), f"{path}.domains", service_id, shared, owner)
        checked = raw.get("checked")
        if not isinstance(checked, date):
            self.fail(f"{path}.checked", f"expected a date like 2026-11-27, got {show(checked)}")
        source = raw.get("source")
        if source != KNOWLEDGE and not (
            isinstance(source, str) and source.startswith("https://") and " " not in source
        ):
            self.fail(
                f"{path}.source",
                f"expected {KNOWLEDGE} or the https:// address of the service's published"
                f" network requirements, got {show(source)}",
            )
        note = raw.get("note", "")
        if not isinstance(note, str):
            self.fail(f"{path}.note", f"expected one line of text, got {show(note)}")
        elif note and (problem := text_problem(note, MAX_NOTE)) is not None:
            self.fail(f"{path}.note", f"a note is one line of text: {problem}")
        if len(self.problems) > problems_before:
            return None
        mask = 0 if category is None else 1 << BY_ID[category].bit
        return Service(
            service_id, name.strip(), kind, category, mask, domains, checked, source, note.strip()
        )

    def category(self, raw: dict[str, Any], kind: Any, path: str) -> str | None:
        if "category" in raw:
            category = raw["category"]
            if category == "none":
                return None
            if isinstance(category, str) and category in BY_ID:
                return category
            self.fail(f"{path}.category", f"expected a category id or none, got {show(category)}")
            return None
        if kind in BY_ID:
            return kind
        fallback = KIND_FALLBACK.get(kind) if isinstance(kind, str) else None
        return kind if kind in BY_ID else fallback

    def domains(
        self,
        raw: Any,
        path: str,
        service_id: str,
        shared: dict[str, str],
        owner: dict[str, str],
    ) -> tuple[str, ...]:
        if not isinstance(raw, list) or not raw:
            self.fail(path, f"expected a list of the service's domains, got {show(raw)}")
            return ()
        found = []
        for i, item in enumerate(raw):
            domain = normalise_domain(item) if isinstance(item, str) else None
            where = f"{path}[{i}]"
            if domain is None:
                self.fail(where, f"not a domain name: {show(item)}")
            elif domain in shared:
                self.fail(where, f"{domain} is shared ({shared[domain]}); it blocks no service")
            elif domain in owner and owner[domain] != service_id:
                self.fail(where, f"{domain} is already listed under {owner[domain]}")
            elif domain in found:
                self.fail(where, f"{domain} is listed twice")
            else:
                owner[domain] = service_id
                found.append(domain)
        return tuple(found)

    def most_common(self, raw: Any, services: dict[str, Service]) -> tuple[str, ...]:
        if not isinstance(raw, list):
            self.fail("most_common", f"expected a list of service ids, got {show(raw)}")
            return ()
        found = []
        for i, item in enumerate(raw):
            if isinstance(item, str) and item in services:
                found.append(item)
            else:
                self.fail(f"most_common[{i}]", f"unknown service {show(item)}")
        return tuple(found)


_READ: dict[Path, tuple[tuple[int, int, int], Catalogue]] = {}  # path -> (identity, last good)


def catalogue_at(path: Path) -> Catalogue:
    """The catalogue in a file, read again only when the file changes (for processes that keep
    running, like the dashboard): a changed file that is refused, or a file gone, keeps the
    last good catalogue; with none good yet, CatalogueError."""
    known = _READ.get(path)
    try:
        info = os.stat(path)
        identity = (info.st_ino, info.st_mtime_ns, info.st_size)
    except OSError as err:
        if known is not None:
            return known[1]
        raise CatalogueError([f"(file): cannot read: {err.strerror}"]) from None
    if known is not None and known[0] == identity:
        return known[1]
    try:
        found = load_catalogue(path)
    except CatalogueError:
        if known is not None:
            _READ[path] = (identity, known[1])  # not re-read until it changes again
            return known[1]
        raise
    _READ[path] = (identity, found)
    return found


def shipped_catalogue() -> Catalogue:
    """The catalogue shipped with filterd (rules files are checked against it by default)."""
    return catalogue_at(CATALOGUE_FILE)
