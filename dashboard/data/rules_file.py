"""The rules file as the dashboard edits it: read with a version, validate, write atomically.

Every save is checked with filterd's own parser (so a save filterd would refuse is impossible)
and is based on the version the person was looking at: if the file changed since (another
carer, a hand edit), the save is refused with StaleEdit instead of overwriting that change.
Comments written by hand are not kept when the dashboard saves.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import hashlib
import os
import stat
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from filterd.rules.guards import END_KEY, NONE_WORD, with_end_line
from filterd.rules.model import Rules
from filterd.rules.parse import RulesError, parse_rules_file
from filterd.rules.yaml_loader import load_plain


class StaleEdit(Exception):
    """The file changed since the version this edit was based on."""


class Snapshot(NamedTuple):
    raw: dict[str, Any]  # the YAML as data, to edit
    rules: Rules | None  # parsed; None when the file on disk is currently refused
    version: str  # sha256 of the bytes, sent back with every edit
    problems: list[str]  # why filterd refuses the file on disk, if it does


EMPTY = with_end_line("children: {}\ndevices: []\n")
EMPTY_SECTIONS = {"children": {}, "devices": []}


def version_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class RulesFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> Snapshot:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            data = EMPTY.encode()
        text = data.decode("utf-8", errors="replace")
        try:
            raw = load_plain(text)
        except yaml.YAMLError:
            raw = None
        raw = raw if isinstance(raw, dict) else {}
        raw.pop(END_KEY, None)  # written back by save, always last
        for key, empty in EMPTY_SECTIONS.items():
            if raw.get(key) == NONE_WORD:
                raw[key] = copy.copy(empty)
        try:
            return Snapshot(raw, parse_rules_file(text), version_of(data), [])
        except RulesError as err:
            return Snapshot(raw, None, version_of(data), err.problems)

    def save(self, raw: dict[str, Any], base_version: str) -> Rules:
        """Validate and write; raises RulesError (with key paths) or StaleEdit."""
        text = file_text(raw)
        rules = parse_rules_file(text)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(f".{self.path.name}.lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # two saves at once: the second sees the first
            self._write_if_current(text, base_version)
        return rules

    def _write_if_current(self, text: str, base_version: str) -> None:
        if self.read().version != base_version:
            raise StaleEdit(
                "The rules were changed by someone else since you opened this page."
                " Your change was not saved: reload to see the new rules, then make it again."
            )
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with open(temporary, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileNotFoundError):  # keep who may read it (0640 stays 0640)
            os.chmod(temporary, stat.S_IMODE(os.stat(self.path).st_mode))
        os.replace(temporary, self.path)


def file_text(raw: dict[str, Any]) -> str:
    """The whole file as saved: an emptied section says `none` (the daemon then applies it
    even when it removes every child or device at once, since a carer asked for it here), and
    the end line comes last so a file cut short is refused."""
    data = {k: v for k, v in _plain(raw).items() if k != END_KEY}
    for key in EMPTY_SECTIONS:
        if key in data and not data[key]:
            data[key] = NONE_WORD
    return with_end_line(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def edited(snapshot: Snapshot) -> dict[str, Any]:
    """A deep copy of the raw rules to change."""
    return copy.deepcopy(snapshot.raw)


def add_override(raw: dict[str, Any], child: str, override: dict[str, Any]) -> None:
    """Append an override to a child; expired ones of the same kind are dropped."""
    body = raw.setdefault("children", {}).get(child)
    if not isinstance(body, dict):
        raise KeyError(child)
    overrides = [
        o for o in body.get("overrides") or [] if not (isinstance(o, dict) and _expired(o))
    ]
    overrides.append(override)
    body["overrides"] = overrides


def remove_overrides(raw: dict[str, Any], child: str, kind: str) -> None:
    body = raw.setdefault("children", {}).get(child)
    if not isinstance(body, dict):
        raise KeyError(child)
    body["overrides"] = [
        o
        for o in body.get("overrides") or []
        if not (isinstance(o, dict) and o.get("kind") == kind)
    ]


def home_time(moment: datetime) -> str:
    """An instant as the rules file writes it: "YYYY-MM-DD HH:MM" in home time."""
    return moment.strftime("%Y-%m-%d %H:%M")


def _expired(override: dict[str, Any]) -> bool:
    until = override.get("until")
    if not isinstance(until, str):
        return False
    try:
        return datetime.fromisoformat(until) < datetime.now()
    except ValueError:
        return False


def _plain(value: Any) -> Any:
    """Data safe_dump can write (tuples and sets to lists)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value
