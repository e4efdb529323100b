"""The serving sections of filterd.yaml: `allow_clients`, `rate_limit` and `tcp`."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from filterd.serve.acl import Network

DEFAULT_ALLOW = (
    "127.0.0.0/8",
    "::1/128",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "169.254.0.0/16",
    "fc00::/7",
    "fe80::/10",
)


@dataclass(frozen=True, slots=True)
class RateLimit:
    queries_per_second: float = 200.0
    burst: float = 2000.0


@dataclass(frozen=True, slots=True)
class TcpLimits:
    idle_timeout: float = 10.0
    max_connections_per_client: int = 16


def parse_allow_clients(v: Any, raw: Any) -> tuple[Network, ...]:
    """v is filterd.validate.Validator: it collects problems; bad values fall back to defaults."""
    if not isinstance(raw, list):
        v.fail("allow_clients", f"expected a list of networks, got {v.show(raw)}")
        return ()
    networks = []
    for i, item in enumerate(raw):
        try:
            networks.append(ipaddress.ip_network(str(item), strict=False))
        except ValueError:
            v.fail(
                f"allow_clients[{i}]",
                f"expected a network like 192.168.0.0/16, got {v.show(item)}",
            )
    return tuple(networks)


def parse_rate_limit(v: Any, raw: Any) -> RateLimit:
    d = RateLimit()
    raw = v.mapping(raw, "rate_limit", {"queries_per_second", "burst"})
    return RateLimit(
        queries_per_second=v.number(
            raw, "queries_per_second", "rate_limit", d.queries_per_second, 0, 1_000_000
        ),
        burst=v.number(raw, "burst", "rate_limit", d.burst, 1, 10_000_000),
    )


def parse_tcp(v: Any, raw: Any) -> TcpLimits:
    d = TcpLimits()
    raw = v.mapping(raw, "tcp", {"idle_timeout", "max_connections_per_client"})
    return TcpLimits(
        idle_timeout=v.number(raw, "idle_timeout", "tcp", d.idle_timeout, 1, 300),
        max_connections_per_client=v.number(
            raw,
            "max_connections_per_client",
            "tcp",
            d.max_connections_per_client,
            1,
            1000,
            True,
        ),
    )
