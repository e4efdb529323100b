"""`filterd backup` and `filterd restore`: the archive of a home, and putting one back."""

from __future__ import annotations

import sqlite3
import sys
import tempfile
from pathlib import Path

from dashboard.backup import archive, restore
from dashboard.settings import check_dashboard_section, dashboard_settings
from filterd.config import load_config_or_report


def sources_of(path: Path) -> archive.Sources | None:
    config = load_config_or_report(path, check_dashboard_section)
    if config is None:
        return None
    return archive.Sources(
        config=path,
        rules=config.rules,
        dashboard_db=dashboard_settings(config).database,
        filterd_db=config.database,
    )


def backup_command(path: Path, with_query_log: bool, out: Path | None, keep: int | None) -> int:
    """Write one archive; with a directory and --keep, delete the oldest dated ones after."""
    sources = sources_of(path)
    if sources is None:
        return 1
    target = out or sources.dashboard_db.parent / "backups"
    if out is None:
        target.mkdir(parents=True, exist_ok=True)
    try:
        written = archive.write_backup(sources, target, with_query_log)
    except (OSError, sqlite3.Error) as err:
        print(f"filterd: backup failed, nothing was written: {err}", file=sys.stderr)
        return 1
    print(f"backup written: {written}")
    if keep is not None and target.is_dir():
        for old in archive.prune(target, keep):
            print(f"old backup removed (keeping {keep}): {old}")
    return 0


def restore_command(archive_path: Path, path: Path, dry_run: bool, force: bool) -> int:
    """Check the archive whole, say what would change, then (unless a dry run) restore it."""
    sources = sources_of(path)
    if sources is None:
        return 1
    with tempfile.TemporaryDirectory(prefix="filterd-restore-") as work:
        unpacked = Path(work)
        try:
            manifest = archive.read_checked(archive_path, unpacked)
            restore.check_rules(unpacked)
        except archive.BackupRefused as refused:
            print(f"filterd: {archive_path} cannot be restored:", file=sys.stderr)
            for problem in refused.problems:
                print(f"  {problem}", file=sys.stderr)
            return 1
        current = restore.read_home(sources.config, sources.rules, sources.dashboard_db)
        archived = restore.read_home(
            unpacked / archive.CONFIG, unpacked / archive.RULES, unpacked / archive.DASHBOARD_DB
        )
        print(
            f"{archive_path}: checked (filterd {manifest.get('product_version')},"
            f" every member's checksum matches)."
        )
        for line in restore.describe(current, archived):
            print(f"  {line}")
        if dry_run:
            print("Dry run: nothing was changed.")
            return 0
        if current.in_use and not force:
            print(
                "filterd: this install already has children or accounts; restoring would"
                " replace them. Run again with --force to do it (a copy of what is replaced"
                " is kept).",
                file=sys.stderr,
            )
            return 1
        kept = restore.apply(unpacked, sources, archive_path.name)
    print(f"Restored. What was here before is kept in {kept}.")
    print("Restart filterd and the dashboard so they read the restored files.")
    return 0
