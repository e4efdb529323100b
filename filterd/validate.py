"""Checking YAML settings into typed values, shared by every file filterd reads (filterd.yaml
and each package's section of it, the rules file, the app catalogue, the dashboard's section):
problems are collected as `key.path: reason`, all at once, so a person fixes a file in one go.
No package's settings live here; `filterd.config` assembles them into a Config.
"""

from __future__ import annotations

import ipaddress
import reprlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

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
