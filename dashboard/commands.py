"""Dashboard commands: `filterd dashboard`, `users add`, `setup-code` and `certificate`."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

from dashboard.settings import check_dashboard_section, dashboard_settings
from filterd.config import load_config_or_report


def serve(path: Path) -> int:
    from dashboard.server import serve as serve_dashboard

    config = load_config_or_report(path, check_dashboard_section)
    if config is None:
        return 1
    return serve_dashboard(config, path)


def certificate_command(path: Path) -> int:
    """Where the dashboard's certificate is, what it covers and its fingerprints (made now if
    the dashboard has not started yet), for checking on a phone before trusting it."""
    from dashboard import certificates

    config = load_config_or_report(path, check_dashboard_section)
    if config is None:
        return 1
    try:
        found = certificates.ensure(dashboard_settings(config))
    except PermissionError:
        print("Only the dashboard's user can read its certificates: use sudo -u.", file=sys.stderr)
        return 1
    except certificates.CertificateError as err:
        print(err, file=sys.stderr)
        return 1
    print("\n".join(certificates.describe(found)))
    return 0


def add_user_command(path: Path, name: str, role: str, email: str = "") -> int:
    """Password from a prompt, or the first line of standard input when it is not a terminal."""
    from dashboard.data import accounts, audit, passwords
    from dashboard.data.db import connect

    config = load_config_or_report(path, check_dashboard_section)
    if config is None:
        return 1
    settings = dashboard_settings(config)
    if sys.stdin.isatty():
        password = getpass.getpass(f"Password for {name}: ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    db = connect(settings.database)
    try:
        user = accounts.add_user(db, name, accounts.Role(role), password)
    except (accounts.AccountError, passwords.Busy) as err:
        print(err, file=sys.stderr)
        return 1
    if email:
        from dashboard.alerts.routing import set_email

        try:
            set_email(db, user.id, email)
        except ValueError as err:
            print(err, file=sys.stderr)
            return 1
    audit.record(db, "(command line)", "user.add", user.name, role)
    print(f"account {user.name} ({role}) created")
    return 0


def setup_code_command(path: Path) -> int:
    """Print the one-time code the first-run page asks for (made now if the dashboard has not
    started yet); run it as the dashboard's user, the only one that can read the code."""
    from dashboard.data import accounts, setup_code
    from dashboard.data.db import connect

    config = load_config_or_report(path, check_dashboard_section)
    if config is None:
        return 1
    database = dashboard_settings(config).database
    db = connect(database)
    try:
        if accounts.has_users(db):
            print(
                "The dashboard is already set up: there is no set-up code any more."
                " Log in with an administrator account.",
                file=sys.stderr,
            )
            return 1
        print(setup_code.ensure(database))
    except PermissionError:
        print("Only the dashboard's user can read the set-up code: use sudo -u.", file=sys.stderr)
        return 1
    finally:
        db.close()
    return 0
