"""Load and validate filterd.yaml into a frozen Config.

Every problem is reported as `key.path: reason`, all of them at once, and unknown keys are
refused so a typo never silently means "default". YAML is read with safe_load: tags such as
!!python/object are refused.
"""

from __future__ import annotations

import ipaddress
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
from filterd.validate import ConfigError, HostPort, Validator, read_mapping


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


def parse_config(text: str, extra: Extra | None = None) -> Config:
    raw = read_mapping(text, yaml.safe_load, ConfigError)
    v = Validator()
    config = config_from(v, raw)
    if extra is not None:
        extra(v, config)
    if v.problems:
        raise ConfigError(v.problems)
    return config


def config_from(v: Validator, raw: dict[str, Any]) -> Config:
    """Every section of filterd.yaml checked by its own package's parser, into one Config."""
    known = (set(Config.__dataclass_fields__) - {"blocklists"}) | BLOCKLIST_KEYS
    v.mapping(raw, "", known)
    defaults = Config(listen=(), upstreams=())
    for required in ("listen", "upstreams"):
        if required not in raw:
            v.fail(required, "required")
    listen = v.host_ports(raw.get("listen", []), "listen")
    upstreams, upstream_timeout = parse_upstreams(v, raw)
    return Config(
        listen=listen,
        upstreams=upstreams,
        upstream_timeout=upstream_timeout,
        allow_clients=parse_allow_clients(v, raw.get("allow_clients", list(DEFAULT_ALLOW))),
        database=v.path(raw.get("database", str(defaults.database)), "database"),
        metrics=v.optional_host_port(raw.get("metrics"), "metrics"),
        cache=parse_cache(v, raw.get("cache")),
        rate_limit=parse_rate_limit(v, raw.get("rate_limit")),
        query_log=parse_query_log(v, raw.get("query_log")),
        rebinding=parse_rebinding(v, raw.get("rebinding")),
        tcp=parse_tcp(v, raw.get("tcp")),
        blocklists=parse_blocklist_settings(v, raw),
        rules=None if raw.get("rules") in (None, "") else v.path(raw["rules"], "rules"),
        discovery=parse_discovery_settings(v, raw.get("discovery")),
        box_names=parse_box_names(v, raw.get("box_names")),
        dashboard=v.section(raw.get("dashboard"), "dashboard"),
    )
