"""The `dashboard` section of filterd.yaml, read and checked here: filterd's core keeps it as
it was written, so the DNS daemon never depends on the dashboard."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dashboard.alerts.settings import AlertSettings, parse_alert_settings
from filterd.config import Config
from filterd.validate import ConfigError, Validator

KEYS = {
    "listen",
    "http_listen",
    "database",
    "allowed_hosts",
    "certificate",
    "key",
    "tls_directory",
    "alerts",
    "disk_warning_mb",
}


@dataclass(frozen=True, slots=True)
class DashboardSettings:
    listen: str = "127.0.0.1:8443"  # host:port the dashboard serves HTTPS on
    # host:port of the plain-HTTP listener (on an appliance, port 80): it sends the dashboard's
    # names to HTTPS and will serve the block page. None: no plain-HTTP listener.
    http_listen: str | None = None
    database: Path = Path("var/dashboard.db")  # accounts, sessions, audit trail, reviews
    # Host names the dashboard answers to (a DNS-rebinding page must not reach it); its
    # certificate covers them too.
    allowed_hosts: tuple[str, ...] = ("localhost", "127.0.0.1", "filterd.home.arpa")
    certificate: Path | None = None  # an operator's own certificate (PEM, chain included)...
    key: Path | None = None  # ...and its private key; otherwise the box makes its own
    # Where the box keeps the certificates it made (None: `tls` beside the database).
    tls_directory: Path | None = None
    alerts: AlertSettings = field(default_factory=AlertSettings)  # dashboard/alerts/settings.py
    # Health warns when the filesystem holding filterd.db has less free than this (MB), and the
    # home page shows a banner below a tenth of it: the query log is about to stop.
    disk_warning_mb: int = 500

    @property
    def certificates(self) -> Path:
        return self.tls_directory or self.database.parent / "tls"


def _host_port(v: Any, key: str, value: Any, default: str | None) -> str | None:
    host, _, port = str(value).rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        v.fail(f"dashboard.{key}", f"expected host:port, got {value!r}")
        return default
    return str(value)


def _path(v: Any, raw: dict, key: str, default: Path | None) -> Path | None:
    value = raw.get(key, None if default is None else str(default))
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        v.fail(f"dashboard.{key}", f"expected a file path, got {value!r}")
        return default
    return Path(value)


def parse_dashboard_settings(v: Any, raw: Any) -> DashboardSettings:
    """v is config.Validator: it collects problems; bad values fall back to defaults."""
    raw = v.mapping(raw, "dashboard", KEYS)
    default = DashboardSettings()
    listen = _host_port(v, "listen", raw.get("listen", default.listen), default.listen)
    http_listen = raw.get("http_listen", default.http_listen)
    if http_listen is not None:
        http_listen = _host_port(v, "http_listen", http_listen, None)
    hosts = raw.get("allowed_hosts", list(default.allowed_hosts))
    if not isinstance(hosts, list) or not all(isinstance(h, str) and h for h in hosts):
        v.fail("dashboard.allowed_hosts", f"expected a list of host names, got {hosts!r}")
        hosts = list(default.allowed_hosts)
    certificate, key = _path(v, raw, "certificate", None), _path(v, raw, "key", None)
    if (certificate is None) != (key is None):
        v.fail("dashboard.certificate", "give both certificate and key, or neither")
        certificate = key = None
    return DashboardSettings(
        listen=str(listen),
        http_listen=http_listen,
        database=_path(v, raw, "database", default.database) or default.database,
        allowed_hosts=tuple(h.lower() for h in hosts),
        certificate=certificate,
        key=key,
        tls_directory=_path(v, raw, "tls_directory", None),
        alerts=parse_alert_settings(v, raw.get("alerts")),
        disk_warning_mb=v.number(
            raw, "disk_warning_mb", "dashboard", default.disk_warning_mb, 1, 10_000_000, True
        ),
    )


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
