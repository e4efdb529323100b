"""The blocklist part of filterd.yaml: category sources, the household floor, blocked answers.

Parsed with the same validator as the rest of the config, so every problem is reported as
`key.path: reason` together with the others.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from filterd.dns.block_answers import BlockStyle
from filterd.lists.categories import ALWAYS_BLOCKED, BY_ID
from filterd.text.redact import redact_url

DEFAULT_FLOOR = ("illegal", "malware_phishing")
# The curated lists in the project's blocklists/ (the project is installed in place, as
# `make run` and deploy/install.sh do); FILTERD_BLOCKLISTS points elsewhere if needed.
SHIPPED_LISTS = Path(
    os.environ.get("FILTERD_BLOCKLISTS") or Path(__file__).resolve().parents[2] / "blocklists"
)


@dataclass(frozen=True, slots=True)
class BlockedAnswer:
    style: BlockStyle = BlockStyle.NULL
    ttl: int = 10
    # Block page addresses (style block_page); None: the box's own address toward the client.
    ipv4: str | None = None
    ipv6: str | None = None


@dataclass(frozen=True, slots=True)
class ListsUpdate:
    directory: Path = Path("var/lists")  # the index, downloaded copies and status.json
    refresh_hours: float = 24.0  # 0: only `filterd lists update` refreshes
    shipped: Path = SHIPPED_LISTS  # curated lists filterd ships, always part of each category


@dataclass(frozen=True, slots=True)
class BlocklistSettings:
    lists: dict[str, tuple[str, ...]] = field(default_factory=dict)  # category -> sources
    block_categories: frozenset[str] = frozenset(DEFAULT_FLOOR) | ALWAYS_BLOCKED
    blocked_answer: BlockedAnswer = field(default_factory=BlockedAnswer)
    lists_update: ListsUpdate = field(default_factory=ListsUpdate)
    helplines: tuple[str, ...] = ()  # extra support services, beside blocklists/helplines.txt
    essential: tuple[str, ...] = ()  # the home's own essential names, beside essential.txt


KEYS = {"lists", "block_categories", "blocked_answer", "lists_update", "helplines", "essential"}


def has_credentials(url: str) -> bool:
    """Whether a URL carries a user name or password (licensed lists are often fetched so)."""
    try:
        parts = urlsplit(url)
        return bool(parts.username or parts.password)
    except ValueError:
        return False


def parse_blocklist_settings(v: Any, raw: dict[str, Any]) -> BlocklistSettings:
    """v is filterd.validate.Validator: it collects problems; bad values fall back to defaults."""
    from filterd.lists.parse import normalise_domain

    lists: dict[str, tuple[str, ...]] = {}
    for category, sources in v.mapping(raw.get("lists"), "lists", set(BY_ID)).items():
        if category not in BY_ID:
            continue
        if not isinstance(sources, list) or not all(isinstance(s, str) and s for s in sources):
            v.fail(f"lists.{category}", "expected a list of file paths or URLs")
            continue
        for i, source in enumerate(sources):
            if "://" in source and not source.startswith(("http://", "https://", "file://")):
                v.fail(
                    f"lists.{category}[{i}]",
                    f"only http, https and file URLs, got {redact_url(source)!r}",
                )
            elif source.startswith("http://") and has_credentials(source):
                v.fail(
                    f"lists.{category}[{i}]",
                    "a list's user name and password are sent unencrypted over http://: use"
                    f" https:// (got {redact_url(source)!r})",
                )
        lists[category] = tuple(sources)

    floor = set(ALWAYS_BLOCKED)
    chosen = raw.get("block_categories", list(DEFAULT_FLOOR))
    if not isinstance(chosen, list):
        v.fail("block_categories", f"expected a list of category ids, got {chosen!r}")
    else:
        for i, category in enumerate(chosen):
            if category in BY_ID:
                floor.add(category)
            else:
                v.fail(
                    f"block_categories[{i}]",
                    f"unknown category {category!r} (known: {', '.join(BY_ID)})",
                )

    return BlocklistSettings(
        lists=lists,
        block_categories=frozenset(floor),
        blocked_answer=_blocked_answer(v, raw.get("blocked_answer")),
        lists_update=_lists_update(v, raw.get("lists_update")),
        helplines=_domains(v, "helplines", raw.get("helplines", []), normalise_domain),
        essential=_domains(v, "essential", raw.get("essential", []), normalise_domain),
    )


def _blocked_answer(v: Any, raw: Any) -> BlockedAnswer:
    raw = v.mapping(raw, "blocked_answer", {"style", "ttl", "ipv4", "ipv6"})
    default = BlockedAnswer()
    style_text = raw.get("style", default.style.value)
    try:
        style = BlockStyle(style_text)
    except ValueError:
        v.fail(
            "blocked_answer.style",
            f"expected one of {', '.join(s.value for s in BlockStyle)}, got {style_text!r}",
        )
        style = default.style
    ttl = v.number(raw, "ttl", "blocked_answer", default.ttl, 0, 3600, True)
    addresses = {}
    for key, version in (("ipv4", 4), ("ipv6", 6)):
        value = raw.get(key)
        if value in (None, ""):
            addresses[key] = None
            continue
        try:
            address = ipaddress.ip_address(str(value))
            if address.version != version:
                raise ValueError
            addresses[key] = str(address)
        except ValueError:
            v.fail(f"blocked_answer.{key}", f"expected an IPv{version} address, got {value!r}")
            addresses[key] = None
    return BlockedAnswer(style, ttl, addresses["ipv4"], addresses["ipv6"])


def _lists_update(v: Any, raw: Any) -> ListsUpdate:
    raw = v.mapping(raw, "lists_update", {"directory", "refresh_hours", "shipped"})
    default = ListsUpdate()
    directory = raw.get("directory", str(default.directory))
    shipped = raw.get("shipped", str(default.shipped))
    for key, value in (("directory", directory), ("shipped", shipped)):
        if not isinstance(value, str) or not value:
            v.fail(f"lists_update.{key}", f"expected a directory path, got {value!r}")
    return ListsUpdate(
        directory=Path(directory)
        if isinstance(directory, str) and directory
        else default.directory,
        refresh_hours=v.number(
            raw, "refresh_hours", "lists_update", default.refresh_hours, 0, 24 * 30
        ),
        shipped=Path(shipped) if isinstance(shipped, str) and shipped else default.shipped,
    )


def _domains(v: Any, key: str, raw: Any, normalise) -> tuple[str, ...]:
    if not isinstance(raw, list):
        v.fail(key, f"expected a list of domains, got {raw!r}")
        return ()
    domains = []
    for i, item in enumerate(raw):
        domain = normalise(str(item)) if isinstance(item, str) else None
        if domain is None:
            v.fail(f"{key}[{i}]", f"not a domain name: {item!r}")
        else:
            domains.append(domain)
    return tuple(domains)
