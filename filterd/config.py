"""Load and validate filterd.yaml into a frozen Config.

Every problem is reported as `key.path: reason`, all of them at once, and unknown keys are
refused so a typo never silently means "default". YAML is read with safe_load: tags such as
!!python/object are refused.
"""

from __future__ import annotations

import ipaddress
import reprlib
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dashboard.settings import DashboardSettings, parse_dashboard_settings
from filterd.discovery.settings import DiscoverySettings, parse_discovery_settings
from filterd.dns.wire import text_to_wire
from filterd.forward.cache import CacheLimits
from filterd.lists.settings import KEYS as BLOCKLIST_KEYS
from filterd.lists.settings import BlocklistSettings, parse_blocklist_settings
from filterd.serve.acl import Network
from filterd.serve.sockets import TcpLimits
from filterd.text import escaped

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
DEFAULT_REBIND_ALLOW = ("home.arpa", "lan", "local", "plex.direct")


class ConfigError(Exception):
    """The config was refused; `problems` lists each as `key.path: reason`."""

    def __init__(self, problems: list[str]) -> None:
        # A bad file can hold any character: problems are printed, logged and put on pages,
        # so none may carry a control character, a direction override or a lone surrogate.
        problems = [escaped(problem) for problem in problems]
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class HostPort:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class RateLimit:
    queries_per_second: float = 200.0
    burst: float = 2000.0


@dataclass(frozen=True, slots=True)
class QueryLogSettings:
    retention_days: int = 7
    queue_size: int = 100_000


@dataclass(frozen=True, slots=True)
class Rebinding:
    protect: bool = True
    allow: tuple[str, ...] = DEFAULT_REBIND_ALLOW

    def allowed_wire(self) -> tuple[bytes, ...]:
        return tuple(text_to_wire(name) for name in self.allow)


@dataclass(frozen=True, slots=True)
class Config:
    listen: tuple[HostPort, ...]
    upstreams: tuple[HostPort, ...]
    upstream_timeout: float = 0.8
    allow_clients: tuple[Network, ...] = tuple(ipaddress.ip_network(n) for n in DEFAULT_ALLOW)
    database: Path = Path("var/filterd.db")
    metrics: HostPort | None = None
    cache: CacheLimits = field(default_factory=CacheLimits)
    rate_limit: RateLimit = field(default_factory=RateLimit)
    query_log: QueryLogSettings = field(default_factory=QueryLogSettings)
    rebinding: Rebinding = field(default_factory=Rebinding)
    tcp: TcpLimits = field(default_factory=TcpLimits)
    blocklists: BlocklistSettings = field(default_factory=BlocklistSettings)
    rules: Path | None = None  # the rules file: children, devices, schedules (filterd.rules)
    discovery: DiscoverySettings = field(default_factory=DiscoverySettings)
    dashboard: DashboardSettings = field(default_factory=DashboardSettings)


def load_config(path: Path) -> Config:
    """Read and validate a config file; raise ConfigError listing every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError([f"{path}: cannot read: {err}"]) from None
    return parse_config(text)


def load_config_or_report(path: Path) -> Config | None:
    """For commands: the config, or None after printing each problem to stderr."""
    try:
        return load_config(path)
    except ConfigError as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        return None


def read_mapping(text: str, load: Callable[[str], Any], error: type[ConfigError]) -> dict:
    """The top-level mapping of a YAML file; a syntax error or another shape raises `error`
    with the line and column, as `(file): ...`."""
    try:
        raw = load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise error([f"(file): {where}{problem}"]) from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise error(["(file): expected a mapping of keys at the top level"])
    return raw


def parse_config(text: str) -> Config:
    raw = read_mapping(text, yaml.safe_load, ConfigError)
    v = Validator()
    config = v.config(raw)
    if v.problems:
        raise ConfigError(v.problems)
    return config


class Validator:
    """Collects problems while converting raw YAML values into typed settings."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, path: str, reason: str) -> None:
        self.problems.append(escaped(f"{path}: {reason}"))

    def mapping(self, raw: Any, path: str, known: set[str]) -> dict[str, Any]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.fail(path, f"expected a mapping, got {show(raw)}")
            return {}
        for key in raw:
            if key not in known:
                self.fail(
                    f"{path}.{key}" if path else str(key),
                    f"unknown key (known: {', '.join(sorted(known))})",
                )
        return raw

    def config(self, raw: dict[str, Any]) -> Config:
        known = (set(Config.__dataclass_fields__) - {"blocklists"}) | BLOCKLIST_KEYS
        self.mapping(raw, "", known)
        defaults = Config(listen=(), upstreams=())
        for required in ("listen", "upstreams"):
            if required not in raw:
                self.fail(required, "required")
        listen = self.host_ports(raw.get("listen", []), "listen")
        upstreams = self.host_ports(raw.get("upstreams", []), "upstreams")
        return Config(
            listen=listen,
            upstreams=upstreams,
            upstream_timeout=self.number(
                raw, "upstream_timeout", "", defaults.upstream_timeout, 0.05, 5.0
            ),
            allow_clients=self.networks(raw.get("allow_clients", list(DEFAULT_ALLOW))),
            database=self.path(raw.get("database", str(defaults.database)), "database"),
            metrics=self.optional_host_port(raw.get("metrics"), "metrics"),
            cache=self.cache(raw.get("cache")),
            rate_limit=self.rate_limit(raw.get("rate_limit")),
            query_log=self.query_log(raw.get("query_log")),
            rebinding=self.rebinding(raw.get("rebinding")),
            tcp=self.tcp(raw.get("tcp")),
            blocklists=parse_blocklist_settings(self, raw),
            rules=None if raw.get("rules") in (None, "") else self.path(raw["rules"], "rules"),
            discovery=parse_discovery_settings(self, raw.get("discovery")),
            dashboard=parse_dashboard_settings(self, raw.get("dashboard")),
        )

    def number(
        self,
        raw: dict,
        key: str,
        section: str,
        default: float,
        lo: float,
        hi: float,
        integer: bool = False,
    ) -> Any:
        path = f"{section}.{key}" if section else key
        value = raw.get(key, default)
        ok = isinstance(value, int) if integer else isinstance(value, int | float)
        if isinstance(value, bool) or not ok:
            kind = "a whole number" if integer else "a number"
            self.fail(path, f"expected {kind}, got {show(value)}")
            return default
        if not lo <= value <= hi:
            self.fail(path, f"must be between {lo:g} and {hi:g}, got {value}")
            return default
        return value

    def host_port(self, value: Any, path: str) -> HostPort | None:
        if not isinstance(value, str):
            self.fail(path, f'expected "host:port", got {show(value)}')
            return None
        text = value.strip()
        if text.startswith("["):
            host, sep, port = text[1:].partition("]:")
        else:
            host, sep, port = text.rpartition(":")
            if ":" in host:
                self.fail(path, f"write IPv6 addresses as [address]:port, got {value!r}")
                return None
        if not sep or not port.isdigit() or not 0 < int(port) < 65536:
            self.fail(path, f"expected host:port with a port from 1 to 65535, got {value!r}")
            return None
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            self.fail(path, f"expected an IP address, got {host!r}")
            return None
        # Canonical spelling: replies are matched against it (the kernel reports "::1").
        return HostPort(str(address), int(port))

    def host_ports(self, raw: Any, path: str) -> tuple[HostPort, ...]:
        if not isinstance(raw, list) or not raw:
            self.fail(path, f'expected a non-empty list of "host:port", got {show(raw)}')
            return ()
        parsed = [self.host_port(item, f"{path}[{i}]") for i, item in enumerate(raw)]
        return tuple(p for p in parsed if p is not None)

    def optional_host_port(self, raw: Any, path: str) -> HostPort | None:
        return None if raw in (None, "", False) else self.host_port(raw, path)

    def networks(self, raw: Any) -> tuple[Network, ...]:
        if not isinstance(raw, list):
            self.fail("allow_clients", f"expected a list of networks, got {show(raw)}")
            return ()
        networks = []
        for i, item in enumerate(raw):
            try:
                networks.append(ipaddress.ip_network(str(item), strict=False))
            except ValueError:
                self.fail(
                    f"allow_clients[{i}]",
                    f"expected a network like 192.168.0.0/16, got {show(item)}",
                )
        return tuple(networks)

    def path(self, raw: Any, key: str) -> Path:
        if not isinstance(raw, str) or not raw.strip():
            self.fail(key, f"expected a file path, got {show(raw)}")
            return Path("var/filterd.db")
        return Path(raw)

    def cache(self, raw: Any) -> CacheLimits:
        d = CacheLimits()
        known = {
            "max_entries",
            "max_megabytes",
            "min_ttl",
            "max_ttl",
            "negative_max_ttl",
            "servfail_ttl",
            "stale_max_age",
        }
        raw = self.mapping(raw, "cache", known)
        n = self.number
        limits = CacheLimits(
            max_entries=n(raw, "max_entries", "cache", d.max_entries, 1, 10_000_000, True),
            max_bytes=int(n(raw, "max_megabytes", "cache", d.max_bytes / 2**20, 1, 4096) * 2**20),
            min_ttl=n(raw, "min_ttl", "cache", d.min_ttl, 0, 3600, True),
            max_ttl=n(raw, "max_ttl", "cache", d.max_ttl, 1, 604_800, True),
            negative_max_ttl=n(
                raw, "negative_max_ttl", "cache", d.negative_max_ttl, 0, 86_400, True
            ),
            servfail_ttl=n(raw, "servfail_ttl", "cache", d.servfail_ttl, 0, 5, True),
            stale_max_age=n(raw, "stale_max_age", "cache", d.stale_max_age, 0, 604_800, True),
        )
        if limits.min_ttl > limits.max_ttl:
            self.fail("cache.min_ttl", f"must not exceed cache.max_ttl ({limits.max_ttl})")
        return limits

    def rate_limit(self, raw: Any) -> RateLimit:
        d = RateLimit()
        raw = self.mapping(raw, "rate_limit", {"queries_per_second", "burst"})
        return RateLimit(
            queries_per_second=self.number(
                raw, "queries_per_second", "rate_limit", d.queries_per_second, 0, 1_000_000
            ),
            burst=self.number(raw, "burst", "rate_limit", d.burst, 1, 10_000_000),
        )

    def query_log(self, raw: Any) -> QueryLogSettings:
        d = QueryLogSettings()
        raw = self.mapping(raw, "query_log", {"retention_days", "queue_size"})
        return QueryLogSettings(
            retention_days=self.number(
                raw, "retention_days", "query_log", d.retention_days, 1, 3650, True
            ),
            queue_size=self.number(
                raw, "queue_size", "query_log", d.queue_size, 100, 10_000_000, True
            ),
        )

    def rebinding(self, raw: Any) -> Rebinding:
        raw = self.mapping(raw, "rebinding", {"protect", "allow"})
        protect = raw.get("protect", True)
        if not isinstance(protect, bool):
            self.fail("rebinding.protect", f"expected true or false, got {show(protect)}")
            protect = True
        allow = raw.get("allow", list(DEFAULT_REBIND_ALLOW))
        names: list[str] = []
        if not isinstance(allow, list):
            self.fail("rebinding.allow", f"expected a list of domains, got {show(allow)}")
        else:
            for i, item in enumerate(allow):
                try:
                    text_to_wire(str(item))
                    names.append(str(item).strip().rstrip(".").lower())
                except (ValueError, UnicodeError) as err:
                    self.fail(f"rebinding.allow[{i}]", f"not a domain name: {err}")
        return Rebinding(protect, tuple(names))

    def tcp(self, raw: Any) -> TcpLimits:
        d = TcpLimits()
        raw = self.mapping(raw, "tcp", {"idle_timeout", "max_connections_per_client"})
        return TcpLimits(
            idle_timeout=self.number(raw, "idle_timeout", "tcp", d.idle_timeout, 1, 300),
            max_connections_per_client=self.number(
                raw,
                "max_connections_per_client",
                "tcp",
                d.max_connections_per_client,
                1,
                1000,
                True,
            ),
        )


_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 60
_SHORT.maxlevel = 3


def show(value: Any) -> str:
    """A short repr of a bad value for a message; bounded however large the value is."""
    text = _SHORT.repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
