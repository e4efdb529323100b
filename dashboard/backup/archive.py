"""Writing and checking a backup archive (tar.gz).

The databases are copied with SQLite's online backup API, so a backup taken while filterd and
the dashboard are writing is a consistent snapshot, never a torn file copy. manifest.json names
every member with its SHA-256 and size, the archive's format version, the product's version and
each database's schema version, so a restore can refuse an archive that was cut short, altered,
or written by a newer release before it touches anything.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import sqlite3
import tarfile
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from dashboard.data import db as dashboard_db
from filterd import __version__
from filterd.db import schema as filterd_schema

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CONFIG = "filterd.yaml"
RULES = "rules.yaml"
DASHBOARD_DB = "dashboard.db"
FILTERD_DB = "filterd.db"
MEMBERS = (CONFIG, RULES, DASHBOARD_DB, FILTERD_DB)
NAME_PATTERN = "filterd-backup-*.tar.gz"
_STAMPED = re.compile(r"^filterd-backup-\d{8}-\d{6}\.tar\.gz$")


class BackupRefused(Exception):
    """The archive cannot be restored; `problems` names each member and why, in plain words."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Sources:
    """Where this install keeps what a backup holds."""

    config: Path
    rules: Path | None
    dashboard_db: Path
    filterd_db: Path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_backup(sources: Sources, out: Path, with_query_log: bool = False) -> Path:
    """Write the archive to `out` (a file name, or a directory for a dated name); returns it.
    Readable by its owner only: it holds the accounts' password hashes."""
    if out.is_dir():
        out = out / time.strftime("filterd-backup-%Y%m%d-%H%M%S.tar.gz", time.gmtime())
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="filterd-backup-") as work:
        staged = Path(work)
        (staged / CONFIG).write_bytes(sources.config.read_bytes())
        if sources.rules is not None and sources.rules.exists():
            (staged / RULES).write_bytes(sources.rules.read_bytes())
        dashboard_db.connect(sources.dashboard_db).close()  # created or migrated by its owner
        schemas = {
            "dashboard": filterd_schema.snapshot(sources.dashboard_db, staged / DASHBOARD_DB)
        }
        if with_query_log and sources.filterd_db.exists():
            schemas["filterd"] = filterd_schema.snapshot(sources.filterd_db, staged / FILTERD_DB)
        members = {
            name: {"sha256": _sha256(staged / name), "size": (staged / name).stat().st_size}
            for name in MEMBERS
            if (staged / name).exists()
        }
        manifest = {
            "format": FORMAT_VERSION,
            "product": "filterd",
            "product_version": __version__,
            "created": time.time(),
            "schemas": schemas,
            "members": members,
        }
        partial = out.with_name(out.name + ".part")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            data = json.dumps(manifest, indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
            tar.addfile(info, io.BytesIO(data))
            for name in members:
                tar.add(staged / name, arcname=name, recursive=False)
        os.replace(partial, out)
    return out


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` dated archives in `directory`; returns those deleted."""
    dated = sorted(p for p in directory.glob(NAME_PATTERN) if _STAMPED.match(p.name))
    removed = dated[:-keep] if keep > 0 else []
    for path in removed:
        path.unlink()
    return removed


SUPPORTED_SCHEMAS = {
    "dashboard": dashboard_db.SCHEMA_VERSION,
    "filterd": filterd_schema.SCHEMA_VERSION,
}


def _database_problems(path: Path, schema: str, manifest: dict) -> list[str]:
    """A database member that is not a database, or is newer than this release reads."""
    try:
        version = filterd_schema.schema_version(path)
    except sqlite3.DatabaseError:
        return [f"{path.name}: not a database this release can read (damaged)"]
    if version > SUPPORTED_SCHEMAS[schema]:
        return [
            f"{path.name}: schema version {version} is newer than this release's"
            f" ({SUPPORTED_SCHEMAS[schema]}); restore it with filterd"
            f" {manifest.get('product_version')}"
        ]
    return []


def read_checked(archive: Path, into: Path) -> dict:
    """Unpack the archive into `into` and check it whole; returns its manifest, or raises
    BackupRefused naming each member that is missing, cut short, altered or too new."""
    problems: list[str] = []
    seen: dict[str, tuple[str, int]] = {}
    current = "the start of the archive"
    try:
        with tarfile.open(archive, mode="r|gz") as tar:
            for member in tar:
                current = member.name
                if member.name not in (MANIFEST, *MEMBERS) or not member.isfile():
                    problems.append(f"{member.name}: not something a filterd backup holds")
                    continue
                reader = tar.extractfile(member)
                digest, size = hashlib.sha256(), 0
                with (into / member.name).open("wb") as out:
                    while block := reader.read(1 << 20):
                        digest.update(block)
                        size += len(block)
                        out.write(block)
                if size != member.size:
                    raise EOFError("ended early")
                seen[member.name] = (digest.hexdigest(), size)
                current = f"the archive after {member.name}"
    except FileNotFoundError:
        raise BackupRefused([f"{archive}: no such file"]) from None
    except (tarfile.TarError, EOFError, zlib.error, OSError) as err:
        raise BackupRefused(
            [f"{current}: the archive is cut short or damaged here ({err})"]
        ) from None
    if MANIFEST not in seen:
        raise BackupRefused([*problems, f"{MANIFEST}: missing, so this is not a filterd backup"])
    try:
        manifest = json.loads((into / MANIFEST).read_text(encoding="utf-8"))
        members = manifest["members"]
        fmt = manifest["format"]
        schemas = manifest["schemas"]
    except (ValueError, KeyError, TypeError) as err:
        raise BackupRefused([f"{MANIFEST}: cannot be read ({err})"]) from None
    if not isinstance(fmt, int) or fmt > FORMAT_VERSION:
        problems.append(
            f"{MANIFEST}: written in backup format {fmt}, newer than this release reads"
            f" ({FORMAT_VERSION}); restore it with filterd"
            f" {manifest.get('product_version')} or newer"
        )
    for name, version in dict(schemas).items():
        supported = SUPPORTED_SCHEMAS.get(name)
        if supported is None or not isinstance(version, int) or version > supported:
            problems.append(
                f"{name}.db: schema version {version} is newer than this release's"
                f" ({supported}); restore it with filterd {manifest.get('product_version')}"
            )
    for name, expected in dict(members).items():
        if name not in MEMBERS:
            problems.append(f"{MANIFEST}: names {name!r}, which a filterd backup never holds")
        elif name not in seen:
            problems.append(f"{name}: missing from the archive (cut short or altered)")
        elif seen[name] != (expected.get("sha256"), expected.get("size")):
            problems.append(
                f"{name}: its contents do not match the checksum in the manifest"
                " (altered or damaged)"
            )
    for name, schema in ((DASHBOARD_DB, "dashboard"), (FILTERD_DB, "filterd")):
        if name in seen and not problems:  # the file itself, whatever the manifest says
            problems.extend(_database_problems(into / name, schema, manifest))
    for name in seen:
        if name != MANIFEST and name not in members:
            problems.append(f"{name}: in the archive but not in its manifest (added afterwards)")
    if CONFIG not in members or DASHBOARD_DB not in members:
        problems.append(f"{MANIFEST}: lists no {CONFIG} or no {DASHBOARD_DB}")
    if problems:
        raise BackupRefused(problems)
    return manifest
