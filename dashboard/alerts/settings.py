"""The `dashboard.alerts` section of filterd.yaml: mail server, webhooks, grouping, quiet hours.

Secrets are never in the config: the SMTP password and each webhook's key are read from files
that only the dashboard's user can read (a file others can read is refused by name).
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KEYS = {"link_base", "group_minutes", "quiet_hours", "digest_time", "email", "webhooks"}
EMAIL_KEYS = {"host", "port", "security", "username", "password_file", "sender"}
WEBHOOK_KEYS = {"url", "secret_file", "format", "severities"}
SECURITY = ("starttls", "tls", "none")
FORMATS = ("json", "plain")  # plain: a text body phone-push services take as it is
SEVERITIES = ("info", "warning", "high", "critical")
_CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)").fullmatch


@dataclass(frozen=True, slots=True)
class EmailSettings:
    host: str
    port: int = 587
    security: str = "starttls"  # starttls, tls (implicit, port 465) or none (loopback only)
    username: str = ""
    password_file: Path | None = None
    sender: str = "filterd@localhost"

    def password(self) -> str:
        return read_secret(self.password_file) if self.password_file else ""


@dataclass(frozen=True, slots=True)
class Webhook:
    url: str
    secret_file: Path
    format: str = "json"
    severities: tuple[str, ...] = ("high", "critical")

    def secret(self) -> bytes:
        return read_secret(self.secret_file).encode()


@dataclass(frozen=True, slots=True)
class AlertSettings:
    link_base: str = "https://filterd.home.arpa:8443"  # where links in alerts point
    group_minutes: float = 30.0  # one message per child and category in this time
    quiet_start: int | None = 22 * 60  # minutes after midnight, home time (None: no quiet)
    quiet_end: int = 7 * 60
    digest_at: int = 7 * 60 + 30  # the daily (and Monday's weekly) digest, home time
    email: EmailSettings | None = None
    webhooks: tuple[Webhook, ...] = field(default_factory=tuple)


class SecretError(Exception):
    """A secret file that is missing or that others can read."""


def read_secret(path: Path) -> str:
    """The first line of a secret file, refused when group or others may read it."""
    try:
        mode = os.stat(path).st_mode
    except OSError as err:
        raise SecretError(f"{path} cannot be read: {err.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretError(f"{path} can be read by other users: chmod 600 it")
    return path.read_text(encoding="utf-8").splitlines()[0].strip() if path.stat().st_size else ""


def _clock(v: Any, value: Any, path: str) -> int | None:
    match = _CLOCK(value) if isinstance(value, str) else None
    if match is None:
        v.fail(path, f"expected a time like 22:00, got {v.show(value)}")
        return None
    return int(match[1]) * 60 + int(match[2])


def parse_alert_settings(v: Any, raw: Any) -> AlertSettings:
    """v is filterd.config.Validator: it collects problems; bad values fall back to defaults."""
    raw = v.mapping(raw, "dashboard.alerts", KEYS)
    default = AlertSettings()
    link_base = raw.get("link_base", default.link_base)
    if not isinstance(link_base, str) or not link_base.startswith(("http://", "https://")):
        v.fail(
            "dashboard.alerts.link_base", f"expected an http(s) address, got {v.show(link_base)}"
        )
        link_base = default.link_base
    group = v.number(raw, "group_minutes", "dashboard.alerts", default.group_minutes, 0.05, 1440)
    quiet_start, quiet_end = default.quiet_start, default.quiet_end
    quiet = raw.get("quiet_hours", {})
    if quiet is False:
        quiet_start = None
    else:
        quiet = v.mapping(quiet, "dashboard.alerts.quiet_hours", {"start", "end"})
        if "start" in quiet:
            quiet_start = _clock(v, quiet["start"], "dashboard.alerts.quiet_hours.start")
        if "end" in quiet:
            quiet_end = _clock(v, quiet["end"], "dashboard.alerts.quiet_hours.end") or 0
    digest_at = default.digest_at
    if "digest_time" in raw:
        found = _clock(v, raw["digest_time"], "dashboard.alerts.digest_time")
        digest_at = default.digest_at if found is None else found
    return AlertSettings(
        link_base.rstrip("/"),
        group,
        quiet_start,
        quiet_end,
        digest_at,
        _email(v, raw.get("email")),
        _webhooks(v, raw.get("webhooks", [])),
    )


def _email(v: Any, raw: Any) -> EmailSettings | None:
    if raw is None:
        return None
    where = "dashboard.alerts.email"
    raw = v.mapping(raw, where, EMAIL_KEYS)
    host = raw.get("host")
    if not isinstance(host, str) or not host:
        v.fail(f"{where}.host", f"expected the mail server's name, got {v.show(host)}")
        return None
    security = raw.get("security", "starttls")
    if security not in SECURITY:
        v.fail(
            f"{where}.security", f"expected one of {', '.join(SECURITY)}, got {v.show(security)}"
        )
        security = "starttls"
    port = v.number(raw, "port", where, 465 if security == "tls" else 587, 1, 65535, True)
    username = raw.get("username", "")
    password_file = raw.get("password_file")
    if username and not password_file:
        v.fail(f"{where}.password_file", "required with a username (a file only we can read)")
    sender = raw.get("sender", "filterd@localhost")
    if not isinstance(sender, str) or "@" not in sender:
        v.fail(f"{where}.sender", f"expected an email address, got {v.show(sender)}")
        sender = "filterd@localhost"
    return EmailSettings(
        host, port, security, str(username), Path(password_file) if password_file else None, sender
    )


def _webhooks(v: Any, raw: Any) -> tuple[Webhook, ...]:
    if not isinstance(raw, list):
        v.fail("dashboard.alerts.webhooks", f"expected a list, got {v.show(raw)}")
        return ()
    hooks = []
    for i, item in enumerate(raw):
        where = f"dashboard.alerts.webhooks[{i}]"
        item = v.mapping(item, where, WEBHOOK_KEYS)
        url, secret = item.get("url"), item.get("secret_file")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            v.fail(f"{where}.url", f"expected an http(s) address, got {v.show(url)}")
            continue
        if not isinstance(secret, str) or not secret:
            v.fail(f"{where}.secret_file", "required: a file holding the signing key")
            continue
        form = item.get("format", "json")
        if form not in FORMATS:
            v.fail(f"{where}.format", f"expected json or plain, got {v.show(form)}")
            form = "json"
        severities = item.get("severities", ["high", "critical"])
        if not isinstance(severities, list) or not set(severities) <= set(SEVERITIES):
            v.fail(f"{where}.severities", f"expected some of {', '.join(SEVERITIES)}")
            severities = ["high", "critical"]
        hooks.append(Webhook(url, Path(secret), form, tuple(severities)))
    return tuple(hooks)
