"""Restoring a checked archive onto an install: what would change, in plain words, and the
restore itself (refused over a home already in use unless forced, keeping a copy first)."""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from dashboard.backup.archive import (
    CONFIG,
    DASHBOARD_DB,
    FILTERD_DB,
    RULES,
    BackupRefused,
    Sources,
    write_backup,
)
from dashboard.data import accounts, audit, sessions, setup_code
from dashboard.data import db as dashboard_db
from filterd.config import ConfigError
from filterd.db import schema as filterd_schema
from filterd.rules.parse import parse_rules_bytes

# Keys of filterd.yaml that say where this install keeps its files: a restore onto another
# install keeps the target's own, so the restored settings never point at the old box's paths.
LOCATION_KEYS = ("database", "rules")
DASHBOARD_LOCATION_KEYS = ("database", "tls_directory", "certificate", "key")


@dataclass
class Home:
    """What a person would recognise of an install: children, accounts, rules, records."""

    children: dict[str, str] = field(default_factory=dict)  # id -> name
    accounts: dict[str, str] = field(default_factory=dict)  # name -> role
    devices: int = 0
    audit_rows: int = 0
    reviews: int = 0
    rules_text: bytes = b""
    config_text: bytes = b""

    @property
    def in_use(self) -> bool:
        return bool(self.children or self.accounts)


def _children(rules: bytes) -> tuple[dict[str, str], int]:
    try:
        raw = yaml.safe_load(rules) or {}
    except yaml.YAMLError:
        return {}, 0
    children = raw.get("children") or {} if isinstance(raw, dict) else {}
    named = {
        str(key): str((value or {}).get("name", key)) if isinstance(value, dict) else str(key)
        for key, value in (children.items() if isinstance(children, dict) else [])
    }
    devices = raw.get("devices") if isinstance(raw, dict) else None
    return named, len(devices) if isinstance(devices, list) else 0


def read_home(config: Path, rules: Path | None, dashboard: Path) -> Home:
    rules_text = rules.read_bytes() if rules is not None and rules.exists() else b""
    children, devices = _children(rules_text)
    accounts, audits, reviews = dashboard_db.what_it_holds(dashboard)
    config_text = config.read_bytes() if config.exists() else b""
    return Home(children, accounts, devices, audits, reviews, rules_text, config_text)


def check_rules(unpacked: Path) -> None:
    """The archived rules must load as filterd would load them."""
    if not (unpacked / RULES).exists():
        return
    try:
        parse_rules_bytes((unpacked / RULES).read_bytes())
    except ConfigError as err:
        raise BackupRefused([f"{RULES}: {problem}" for problem in err.problems]) from None


def _names(items: dict[str, str]) -> str:
    return ", ".join(sorted(items.values() if items else [])) or "none"


PLURALS = {"child": "children", "entry": "entries"}


def _count(n: int, noun: str) -> str:
    return f"{n} {noun if n == 1 else PLURALS.get(noun, noun + 's')}"


def describe(current: Home, archived: Home) -> list[str]:
    """What a restore would change, one plain sentence a line."""
    lines = []
    added = {k: v for k, v in archived.children.items() if k not in current.children}
    removed = {k: v for k, v in current.children.items() if k not in archived.children}
    kept = [v for k, v in archived.children.items() if k in current.children]
    lines.append(f"Children added: {_names(added)}.")
    lines.append(f"Children removed: {_names(removed)}.")
    if kept:
        lines.append(f"Children kept, with the backup's rules: {', '.join(sorted(kept))}.")
    new = {n: f"{n} ({r.replace('_', ' ')})" for n, r in archived.accounts.items()}
    gone = {n: f"{n} ({r.replace('_', ' ')})" for n, r in current.accounts.items()}
    lines.append(
        "Accounts added: "
        + _names({n: v for n, v in new.items() if n not in current.accounts})
        + "."
    )
    lines.append(
        "Accounts removed: "
        + _names({n: v for n, v in gone.items() if n not in archived.accounts})
        + "."
    )
    changed_roles = [
        f"{n} becomes {archived.accounts[n].replace('_', ' ')}"
        for n in current.accounts
        if n in archived.accounts and archived.accounts[n] != current.accounts[n]
    ]
    if changed_roles:
        lines.append("Accounts changed: " + ", ".join(changed_roles) + ".")
    if archived.rules_text == current.rules_text:
        lines.append("Rules: unchanged.")
    else:
        lines.append(
            f"Rules: replaced by the backup's ({_count(len(archived.children), 'child')},"
            f" {_count(archived.devices, 'device')}; now {_count(len(current.children), 'child')},"
            f" {_count(current.devices, 'device')})."
        )
    lines.append(
        f"Audit trail: {_count(archived.audit_rows, 'entry')} from the backup replace the"
        f" {_count(current.audit_rows, 'entry')} here; reviews: {archived.reviews} replace"
        f" {current.reviews}."
    )
    lines.append(
        "Settings: unchanged."
        if archived.config_text == current.config_text
        else "Settings: replaced by the backup's (this install's file locations and addresses are"
        " kept)."
    )
    return lines


def _wanted(archived: dict, here: dict) -> dict[tuple[str, ...], object]:
    """The keys of the backup's settings that must be this install's: its file locations and
    the addresses its dashboard answers to (the backup's extra names are kept after them)."""
    wanted: dict[tuple[str, ...], object] = {}
    for key in LOCATION_KEYS:
        if key in here and archived.get(key) != here[key]:
            wanted[(key,)] = here[key]
    old_dash = archived.get("dashboard") if isinstance(archived.get("dashboard"), dict) else {}
    here_dash = here.get("dashboard") if isinstance(here.get("dashboard"), dict) else {}
    for key in DASHBOARD_LOCATION_KEYS:
        if key in here_dash and old_dash.get(key) != here_dash[key]:
            wanted[("dashboard", key)] = here_dash[key]
    own = here_dash.get("allowed_hosts")
    if isinstance(own, list):
        theirs = old_dash.get("allowed_hosts")
        extra = [h for h in theirs if h not in own] if isinstance(theirs, list) else []
        if theirs != [*own, *extra]:
            wanted[("dashboard", "allowed_hosts")] = [*own, *extra]
    return wanted


def _key_line(key: str, indent: str) -> re.Pattern[str]:
    return re.compile(rf"^{indent}{re.escape(key)}\s*:(\s|$)")


def _edit_lines(text: str, wanted: dict[tuple[str, ...], object]) -> str:
    """The text with each wanted key's line rewritten in place (a missing key added under its
    section); every other line, comments included, exactly as it was."""
    lines = text.splitlines(keepends=True)
    for path, value in wanted.items():
        shown = json.dumps(value)  # a JSON scalar or list is YAML, on one line
        if len(path) == 1:
            section_end, indent, start = len(lines), "", 0
        else:
            heads = [i for i, line in enumerate(lines) if _key_line(path[0], "").match(line)]
            if not heads:
                lines.append(f"{path[0]}:\n")
                heads = [len(lines) - 1]
            start = heads[0] + 1
            section_end = next(
                (i for i in range(start, len(lines)) if re.match(r"[^\s#]", lines[i])), len(lines)
            )
            indent = "  "
        pattern = _key_line(path[-1], indent)
        found = next((i for i in range(start, section_end) if pattern.match(lines[i])), None)
        if found is None:
            lines.insert(start, f"{indent}{path[-1]}: {shown}\n")
            continue
        # the key's old value may go on over more lines (a block list, a folded string)
        stop = found + 1
        while stop < section_end and (
            re.match(rf"{indent}\s+\S", lines[stop]) or re.match(rf"{indent}- ", lines[stop])
        ):
            stop += 1
        comment = re.search(r"\s+#[^\"']*$", lines[found].rstrip("\n"))
        tail = comment.group(0) if comment and stop == found + 1 else ""
        lines[found:stop] = [f"{indent}{path[-1]}: {shown}{tail}\n"]
    return "".join(lines)


def _merged_config(archived: bytes, current: bytes) -> bytes:
    """The backup's settings with this install's file locations and addresses: the archived
    text itself, with only those lines changed (its comments kept), verbatim when they agree."""
    old = yaml.safe_load(archived) or {}
    here = yaml.safe_load(current) or {} if current else {}
    wanted = _wanted(old, here)
    if not wanted:
        return archived
    edited = _edit_lines(archived.decode(), wanted)
    expected = json.loads(json.dumps(old, default=str))
    for path, value in wanted.items():
        section = expected
        for key in path[:-1]:
            section = section.setdefault(key, {})
        section[path[-1]] = value
    try:
        if json.loads(json.dumps(yaml.safe_load(edited), default=str)) == expected:
            return edited.encode()
    except yaml.YAMLError:
        pass
    # A layout the line edit cannot follow (a flow mapping, say): written out again instead.
    return yaml.safe_dump(expected, sort_keys=False).encode()


def _owned_like_before(path: Path, before: os.stat_result | None) -> None:
    """A restore run as root leaves each file with the owner and mode it had (or, when new,
    its folder's owner), so the service users can still write their own files."""
    if os.geteuid() != 0:
        return
    owner = before or path.parent.stat()
    for each in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if each.exists():
            os.chown(each, owner.st_uid, owner.st_gid)
    if before is not None:
        os.chmod(path, before.st_mode & 0o7777)


def _stat(path: Path) -> os.stat_result | None:
    return path.stat() if path.exists() else None


def _replace_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    before = _stat(path)
    partial = path.with_name(path.name + ".restoring")
    partial.write_bytes(data)
    os.replace(partial, path)
    _owned_like_before(path, before)


def apply(unpacked: Path, sources: Sources, archive_name: str) -> Path:
    """Put the checked archive in place; returns the archive of what it replaced."""
    # owners before anything here runs (keeping a copy opens, so may create, dashboard.db)
    owners = {path: _stat(path) for path in (sources.dashboard_db, sources.filterd_db)}
    kept = write_backup(
        sources,
        sources.dashboard_db.parent
        / time.strftime("before-restore-%Y%m%d-%H%M%S.tar.gz", time.gmtime()),
        with_query_log=True,
    )
    current = sources.config.read_bytes() if sources.config.exists() else b""
    _replace_file(sources.config, _merged_config((unpacked / CONFIG).read_bytes(), current))
    if sources.rules is not None and (unpacked / RULES).exists():
        _replace_file(sources.rules, (unpacked / RULES).read_bytes())
    filterd_schema.snapshot(unpacked / DASHBOARD_DB, sources.dashboard_db)
    db = dashboard_db.connect(sources.dashboard_db)  # an older schema is migrated here
    try:
        sessions.end_all(db)  # nobody stays signed in from the old box
        audit.record(db, "filterd restore", "restored from backup", archive_name)
        has_administrator = accounts.has_administrator(db)
    finally:
        db.close()
    if has_administrator:  # the first administrator exists: the code would open nothing
        setup_code.discard(sources.dashboard_db)
    _owned_like_before(sources.dashboard_db, owners[sources.dashboard_db])
    if (unpacked / FILTERD_DB).exists():
        filterd_schema.snapshot(unpacked / FILTERD_DB, sources.filterd_db)
        filterd_schema.open_for_writing(sources.filterd_db).close()
        _owned_like_before(sources.filterd_db, owners[sources.filterd_db])
    return kept
