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

from filterd.discovery.settings import DiscoverySettings, parse_discovery_settings
from filterd.forward.settings import (
    UPSTREAM_TIMEOUT,
    CacheLimits,
    Rebinding,
    parse_cache,
    parse_rebinding,
    parse_upstreams,
)
from filterd.lists.settings import KEYS as BLOCKLIST_KEYS
from filterd.lists.settings import BlocklistSettings, parse_blocklist_settings
from filterd.policy.settings import BoxNameSettings, parse_box_names
from filterd.querylog.settings import QueryLogSettings, parse_query_log
from filterd.serve.acl import Network
from filterd.serve.settings import (
    DEFAULT_ALLOW,
    RateLimit,
    TcpLimits,
    parse_allow_clients,
    parse_rate_limit,
    parse_tcp,
)
from filterd.text.people import escaped


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
class Config:
    listen: tuple[HostPort, ...]
    upstreams: tuple[HostPort, ...]
    upstream_timeout: float = UPSTREAM_TIMEOUT
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
    box_names: BoxNameSettings = field(default_factory=BoxNameSettings)  # filterd.home.arpa
    # The dashboard's own section, read and checked by the dashboard (dashboard.settings): the
    # DNS daemon neither needs it nor refuses to start over it.
    dashboard: dict[str, Any] = field(default_factory=dict)


Extra = Callable[["Validator", Config], None]
"""Checks another program's own sections (the dashboard's) in the same pass, so every problem
in the file is reported at once."""


def load_config(path: Path, extra: Extra | None = None) -> Config:
    """Read and validate a config file; raise ConfigError listing every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError([f"{path}: cannot read: {err}"]) from None
    return parse_config(text, extra)


def load_config_or_report(path: Path, extra: Extra | None = None) -> Config | None:
    """For commands: the config, or None after printing each problem to stderr."""
    try:
        return load_config(path, extra)
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


def parse_config(text: str, extra: Extra | None = None) -> Config:
    raw = read_mapping(text, yaml.safe_load, ConfigError)
    v = Validator()
    config = v.config(raw)
    if extra is not None:
        extra(v, config)
    if v.problems:
        raise ConfigError(v.problems)
    return config


class Validator:
    """Collects problems while converting raw YAML values into typed settings."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, path: str, reason: str) -> None:
        self.problems.append(escaped(f"{path}: {reason}"))

    @staticmethod
    def show(value: Any) -> str:
        return show(value)

    def section(self, raw: Any, path: str) -> dict[str, Any]:
        """A section another program checks key by key: here only its shape."""
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.fail(path, f"expected a mapping, got {show(raw)}")
            return {}
        return raw

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
        upstreams, upstream_timeout = parse_upstreams(self, raw)
        return Config(
            listen=listen,
            upstreams=upstreams,
            upstream_timeout=upstream_timeout,
            allow_clients=parse_allow_clients(self, raw.get("allow_clients", list(DEFAULT_ALLOW))),
            database=self.path(raw.get("database", str(defaults.database)), "database"),
            metrics=self.optional_host_port(raw.get("metrics"), "metrics"),
            cache=parse_cache(self, raw.get("cache")),
            rate_limit=parse_rate_limit(self, raw.get("rate_limit")),
            query_log=parse_query_log(self, raw.get("query_log")),
            rebinding=parse_rebinding(self, raw.get("rebinding")),
            tcp=parse_tcp(self, raw.get("tcp")),
            blocklists=parse_blocklist_settings(self, raw),
            rules=None if raw.get("rules") in (None, "") else self.path(raw["rules"], "rules"),
            discovery=parse_discovery_settings(self, raw.get("discovery")),
            box_names=parse_box_names(self, raw.get("box_names")),
            dashboard=self.section(raw.get("dashboard"), "dashboard"),
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

    def path(self, raw: Any, key: str) -> Path:
        if not isinstance(raw, str) or not raw.strip():
            self.fail(key, f"expected a file path, got {show(raw)}")
            return Path("var/filterd.db")
        return Path(raw)


_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 60
_SHORT.maxlevel = 3


def show(value: Any) -> str:
    """A short repr of a bad value for a message; bounded however large the value is."""
    text = _SHORT.repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
