"""Two findings of the outside check on the command line and the files it leaves:
`filterd check-config ... | head -1` ended in a BrokenPipeError traceback, and dashboard.db
(password hashes, two-factor secrets) was made with the umask's mode, which the service's 0007
left readable by its group."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from dashboard.data.db import connect

ROOT = Path(__file__).resolve().parents[1]


def test_check_config_into_head_ends_quietly(tmp_path: Path):
    config = tmp_path / "filterd.yaml"
    # Many problems, so the output is longer than one pipe buffer after head has gone.
    config.write_text("".join(f"unknown_key_{n}: 1\n" for n in range(3000)))
    shell = f"{sys.executable} -m filterd check-config {config} | head -1"
    done = subprocess.run(
        ["bash", "-c", shell], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.count("\n") == 1 and "unknown_key" in done.stdout, done.stdout
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr


def test_dashboard_db_is_owner_only_whatever_the_umask(tmp_path: Path):
    old = os.umask(0o000)
    try:
        db = connect(tmp_path / "dashboard.db")
        db.execute("CREATE TABLE IF NOT EXISTS probe (x)")
        db.execute("INSERT INTO probe VALUES (1)")
        db.commit()
    finally:
        os.umask(old)
    for name in ("dashboard.db", "dashboard.db-wal", "dashboard.db-shm"):
        mode = stat.S_IMODE((tmp_path / name).stat().st_mode)
        assert mode == 0o600, f"{name}: {oct(mode)}"
    db.close()


def test_an_existing_group_readable_dashboard_db_is_narrowed(tmp_path: Path):
    path = tmp_path / "dashboard.db"
    connect(path).close()
    path.chmod(0o664)
    connect(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
