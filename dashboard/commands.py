"""`filterd dashboard` (served by waitress, a production WSGI server) and `filterd users add`."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

from filterd.config import load_config_or_report


def serve(path: Path) -> int:
    from waitress import serve as waitress_serve

    from dashboard.app import create_app

    config = load_config_or_report(path)
    if config is None:
        return 1
    host, _, port = config.dashboard.listen.rpartition(":")
    print(f"dashboard on http://{host}:{port}/ (first visit: create the administrator)")
    waitress_serve(create_app(config), host=host.strip("[]"), port=int(port), threads=8)
    return 0


def add_user_command(path: Path, name: str, role: str) -> int:
    """Password from a prompt, or the first line of standard input when it is not a terminal."""
    from dashboard.data import accounts, audit
    from dashboard.data.db import connect

    config = load_config_or_report(path)
    if config is None:
        return 1
    if sys.stdin.isatty():
        password = getpass.getpass(f"Password for {name}: ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    db = connect(config.dashboard.database)
    try:
        user = accounts.add_user(db, name, accounts.Role(role), password)
    except accounts.AccountError as err:
        print(err, file=sys.stderr)
        return 1
    audit.record(db, "(command line)", "user.add", user.name, role)
    print(f"account {user.name} ({role}) created")
    return 0
