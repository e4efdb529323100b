"""The forwarding sections of filterd.yaml: `upstreams`, `upstream_timeout`, `cache` and
`rebinding`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from filterd.dns.wire import text_to_wire

if TYPE_CHECKING:
    from filterd.validate import HostPort

UPSTREAM_TIMEOUT = 0.8
"""Seconds an upstream has to answer before the next one is asked."""

DEFAULT_REBIND_ALLOW = ("home.arpa", "lan", "local", "plex.direct")
CACHE_KEYS = {
    "max_entries",
    "max_megabytes",
    "min_ttl",
    "max_ttl",
    "negative_max_ttl",
    "servfail_ttl",
    "stale_max_age",
}


@dataclass(frozen=True, slots=True)
class CacheLimits:
    """Bounds from the config's cache section."""

    max_entries: int = 100_000
    max_bytes: int = 64 * 1024 * 1024
    min_ttl: int = 0
    max_ttl: int = 86_400
    negative_max_ttl: int = 3_600
    servfail_ttl: int = 2
    stale_max_age: int = 86_400


@dataclass(frozen=True, slots=True)
class Rebinding:
    protect: bool = True
    allow: tuple[str, ...] = DEFAULT_REBIND_ALLOW

    def allowed_wire(self) -> tuple[bytes, ...]:
        return tuple(text_to_wire(name) for name in self.allow)


def parse_upstreams(v: Any, raw: dict[str, Any]) -> tuple[tuple[HostPort, ...], float]:
    """The upstreams (host:port each; `upstreams` itself is required, checked with `listen`)
    and how long each has to answer. v is filterd.validate.Validator: it collects problems;
    bad values fall back to defaults."""
    upstreams = v.host_ports(raw.get("upstreams", []), "upstreams")
    timeout = v.number(raw, "upstream_timeout", "", UPSTREAM_TIMEOUT, 0.05, 5.0)
    return upstreams, timeout


def parse_cache(v: Any, raw: Any) -> CacheLimits:
    """v is filterd.validate.Validator: it collects problems; bad values fall back to defaults."""
    d = CacheLimits()
    raw = v.mapping(raw, "cache", CACHE_KEYS)
    n = v.number
    limits = CacheLimits(
        max_entries=n(raw, "max_entries", "cache", d.max_entries, 1, 10_000_000, True),
        max_bytes=int(n(raw, "max_megabytes", "cache", d.max_bytes / 2**20, 1, 4096) * 2**20),
        min_ttl=n(raw, "min_ttl", "cache", d.min_ttl, 0, 3600, True),
        max_ttl=n(raw, "max_ttl", "cache", d.max_ttl, 1, 604_800, True),
        negative_max_ttl=n(raw, "negative_max_ttl", "cache", d.negative_max_ttl, 0, 86_400, True),
        servfail_ttl=n(raw, "servfail_ttl", "cache", d.servfail_ttl, 0, 5, True),
        stale_max_age=n(raw, "stale_max_age", "cache", d.stale_max_age, 0, 604_800, True),
    )
    if limits.min_ttl > limits.max_ttl:
        v.fail("cache.min_ttl", f"must not exceed cache.max_ttl ({limits.max_ttl})")
    return limits


def parse_rebinding(v: Any, raw: Any) -> Rebinding:
    raw = v.mapping(raw, "rebinding", {"protect", "allow"})
    protect = raw.get("protect", True)
    if not isinstance(protect, bool):
        v.fail("rebinding.protect", f"expected true or false, got {v.show(protect)}")
        protect = True
    allow = raw.get("allow", list(DEFAULT_REBIND_ALLOW))
    names: list[str] = []
    if not isinstance(allow, list):
        v.fail("rebinding.allow", f"expected a list of domains, got {v.show(allow)}")
    else:
        for i, item in enumerate(allow):
            try:
                text_to_wire(str(item))
                names.append(str(item).strip().rstrip(".").lower())
            except (ValueError, UnicodeError) as err:
                v.fail(f"rebinding.allow[{i}]", f"not a domain name: {err}")
    return Rebinding(protect, tuple(names))
