"""The `dashboard` section of filterd.yaml, read and checked here: filterd's core keeps it as
it was written, so the DNS daemon never depends on the dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filterd.config import Config, ConfigError, Validator

KEYS = {"listen", "database", "allowed_hosts", "secure_cookies"}


@dataclass(frozen=True, slots=True)
class DashboardSettings:
    listen: str = "127.0.0.1:8080"  # host:port the dashboard serves on
    database: Path = Path("var/dashboard.db")  # accounts, sessions, audit trail, reviews
    # Host names the dashboard answers to (a DNS-rebinding page must not reach it).
    allowed_hosts: tuple[str, ...] = ("localhost", "127.0.0.1", "filterd.home.arpa")
    secure_cookies: bool = False  # true when served over HTTPS (a reverse proxy)


def parse_dashboard_settings(v: Any, raw: Any) -> DashboardSettings:
    """v is config.Validator: it collects problems; bad values fall back to defaults."""
    raw = v.mapping(raw, "dashboard", KEYS)
    default = DashboardSettings()
    listen = raw.get("listen", default.listen)
    host, _, port = str(listen).rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        v.fail("dashboard.listen", f"expected host:port, got {listen!r}")
        listen = default.listen
    database = raw.get("database", str(default.database))
    if not isinstance(database, str) or not database:
        v.fail("dashboard.database", f"expected a file path, got {database!r}")
        database = str(default.database)
    hosts = raw.get("allowed_hosts", list(default.allowed_hosts))
    if not isinstance(hosts, list) or not all(isinstance(h, str) and h for h in hosts):
        v.fail("dashboard.allowed_hosts", f"expected a list of host names, got {hosts!r}")
        hosts = list(default.allowed_hosts)
    secure = raw.get("secure_cookies", default.secure_cookies)
    if not isinstance(secure, bool):
        v.fail("dashboard.secure_cookies", f"expected true or false, got {secure!r}")
        secure = default.secure_cookies
    return DashboardSettings(str(listen), Path(database), tuple(h.lower() for h in hosts), secure)


def check_dashboard_section(v: Validator, config: Config) -> None:
    """For load_config(extra=...): the dashboard's problems beside the rest of the file's."""
    parse_dashboard_settings(v, config.dashboard)


def dashboard_settings(config: Config) -> DashboardSettings:
    """The dashboard section of a loaded config; ConfigError lists every problem in it."""
    v = Validator()
    settings = parse_dashboard_settings(v, config.dashboard)
    if v.problems:
        raise ConfigError(v.problems)
    return settings
