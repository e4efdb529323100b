"""The `filterd` command: run the daemon, check a config file, or start the dashboard's commands.

The front door for both programs, so the only filterd module that imports the dashboard (late,
for the commands that need it)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import Any

from filterd.config import ConfigError, load_config, load_config_or_report


def main(argv: list[str] | None = None) -> int:
    """Run one command; a reader that stops early (`filterd check-config ... | head -1`) ends
    the command quietly, as any Unix tool does, instead of with a BrokenPipeError traceback.
    (SIGPIPE is not reset to its default: the daemon writes to sockets and must never die
    of a client that went away.)"""
    try:
        code = _command(argv)
        sys.stdout.flush()  # a pipe closed early shows here, inside the try
        return code
    except BrokenPipeError:
        # Python flushes stdout again at exit: point it at /dev/null so that is quiet too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 141  # what a shell reports for a command ended by SIGPIPE (128 + 13)


def _command(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="filterd", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the DNS server")
    run.add_argument("--config", required=True, type=Path, help="path to filterd.yaml")
    run.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    check = commands.add_parser(
        "check-config", help="validate a config file and the rules file it names"
    )
    check.add_argument("file", type=Path)
    check.add_argument(
        "--rules", type=Path, help="check this rules file instead of the one the config names"
    )
    lists = commands.add_parser("lists", help="blocklist maintenance")
    lists_commands = lists.add_subparsers(dest="lists_command", required=True)
    update = lists_commands.add_parser(
        "update", help="download the configured sources and swap in a new index"
    )
    update.add_argument("--config", required=True, type=Path, help="path to filterd.yaml")
    update.add_argument(
        "--offline",
        action="store_true",
        help="use only shipped lists, local files and copies already downloaded",
    )
    curated = lists_commands.add_parser(
        "check-curated",
        help="ask the upstream about every curated entry; list the names that no longer resolve",
    )
    curated.add_argument("--config", required=True, type=Path, help="path to filterd.yaml")
    curated.add_argument("--server", help="host:port to ask instead of the config's first upstream")
    devices = commands.add_parser("devices", help="devices discovery has seen")
    devices_commands = devices.add_subparsers(dest="devices_command", required=True)
    listing = devices_commands.add_parser("list", help="print every known device")
    listing.add_argument("--config", required=True, type=Path, help="path to filterd.yaml")
    scan = devices_commands.add_parser("scan", help="ARP-sweep the LAN now and record answers")
    scan.add_argument("--config", required=True, type=Path, help="path to filterd.yaml")
    scan.add_argument("--interface", help="instead of the config's discovery.interface")
    events = commands.add_parser(
        "events", help="print the event log as JSON lines (the stream a central view reads)"
    )
    events.add_argument("--config", required=True, type=Path, help="path to filterd.yaml")
    events.add_argument("--after", type=int, default=0, help="only events with a higher id")
    events.add_argument("--follow", action="store_true", help="keep printing new events")
    selftest = commands.add_parser(
        "selftest", help="ask the running filterd what it should block; keep the result"
    )
    selftest.add_argument("--config", required=True, type=Path, help="path to filterd.yaml")
    selftest.add_argument(
        "--children",
        action="store_true",
        help="also ask the running filterd to test each child's rules now, and print the result",
    )
    selftest.add_argument(
        "--wait", type=float, default=60.0, help="seconds to wait for filterd (default 60)"
    )
    up = commands.add_parser(
        "up", help="run filterd and the dashboard together until Ctrl-C (what `make run` does)"
    )
    up.add_argument("--config", required=True, type=Path, help="path to filterd.yaml")
    up.add_argument(
        "--first-rules",
        type=Path,
        help="copy this rules file to the config's rules path when there is none yet",
    )
    dashboard = commands.add_parser("dashboard", help="serve the web dashboard")
    dashboard.add_argument("--config", required=True, type=Path, help="path to filterd.yaml")
    certificate = commands.add_parser(
        "certificate", help="the dashboard's HTTPS certificate: file, names, fingerprints"
    )
    certificate.add_argument("--config", required=True, type=Path, help="path to filterd.yaml")
    code = commands.add_parser(
        "setup-code", help="print the one-time code that creates the first administrator"
    )
    code.add_argument("--config", required=True, type=Path, help="path to filterd.yaml")
    users = commands.add_parser("users", help="dashboard accounts")
    users_commands = users.add_subparsers(dest="users_command", required=True)
    add_user = users_commands.add_parser("add", help="create an account (password from stdin)")
    add_user.add_argument("name")
    add_user.add_argument(
        "--role",
        required=True,
        choices=["administrator", "carer", "safeguarding_lead", "viewer"],
    )
    add_user.add_argument("--config", required=True, type=Path, help="path to filterd.yaml")
    add_user.add_argument("--email", default="", help="where this account's alerts are sent")
    backup = commands.add_parser(
        "backup", help="write one archive of the settings, rules, accounts and audit trail"
    )
    backup.add_argument("--config", required=True, type=Path, help="path to filterd.yaml")
    backup.add_argument("--with-query-log", action="store_true", help="include filterd.db")
    backup.add_argument(
        "--out",
        type=Path,
        help="archive file, or a directory for a dated name (default: backups/"
        " beside dashboard.db)",
    )
    backup.add_argument("--keep", type=int, help="in that directory, keep only the newest N")
    restore = commands.add_parser("restore", help="check a backup archive and restore it")
    restore.add_argument("archive", type=Path)
    restore.add_argument("--config", required=True, type=Path, help="path to filterd.yaml")
    restore.add_argument("--dry-run", action="store_true", help="say what would change, only")
    restore.add_argument(
        "--force", action="store_true", help="replace a home that already has children/accounts"
    )
    args = parser.parse_args(argv)
    if args.command in ("backup", "restore"):
        from dashboard.backup.commands import backup_command, restore_command

        if args.command == "backup":
            return backup_command(args.config, args.with_query_log, args.out, args.keep)
        return restore_command(args.archive, args.config, args.dry_run, args.force)
    if args.command == "check-config":
        return check_config(args.file, args.rules)
    if args.command in ("dashboard", "users", "setup-code", "certificate"):
        from dashboard.commands import (
            add_user_command,
            certificate_command,
            serve,
            setup_code_command,
        )

        if args.command == "dashboard":
            return serve(args.config)
        if args.command == "setup-code":
            return setup_code_command(args.config)
        if args.command == "certificate":
            return certificate_command(args.config)
        return add_user_command(args.config, args.name, args.role, args.email)
    if args.command == "devices":
        from filterd.discovery.commands import list_devices, scan_devices

        if args.devices_command == "list":
            return list_devices(args.config)
        return scan_devices(args.config, args.interface)
    if args.command == "up":
        return up_command(args.config, args.first_rules)
    if args.command == "selftest":
        return selftest_command(args.config, args.children, args.wait)
    if args.command == "events":
        from filterd.events.commands import print_events

        return print_events(args.config, args.after, args.follow)
    if args.command == "lists" and args.lists_command == "check-curated":
        return check_curated(args.config, args.server)
    if args.command == "lists":
        return update_lists(args.config, online=not args.offline)
    return run_daemon(args.config, args.log_level)


def up_command(path: Path, first_rules: Path | None) -> int:
    """filterd and the dashboard together (filterd.up.supervise), told the dashboard's address
    and a way to its set-up code from here, the front door that may read the dashboard."""
    from dashboard.data import accounts, setup_code
    from dashboard.data.db import connect
    from dashboard.settings import check_dashboard_section, dashboard_settings
    from filterd.up.supervise import up

    config = load_config_or_report(path, check_dashboard_section)
    if config is None:
        return 1
    settings = dashboard_settings(config)

    def code() -> str | None:  # None once an administrator exists
        db = connect(settings.database)
        try:
            return None if accounts.has_users(db) else setup_code.ensure(settings.database)
        finally:
            db.close()

    return up(path, settings.listen, code, first_rules, settings.http_listen)


def selftest_command(path: Path, children: bool = False, wait: float = 60.0) -> int:
    """Print each check; exit 1 when any failed (the result is kept in the event log). With
    `children`, the running filterd is asked to test each child's rules too (only it can ask
    its chain as a child's device), and its result is awaited."""
    from filterd.selftest.requests import await_children_result
    from filterd.selftest.run import run_and_record

    config = load_config_or_report(path)
    if config is None:
        return 1
    results = [run_and_record(config)]
    if children:
        asker = "filterd selftest --children"
        result = await_children_result(config.database, by=asker, timeout=wait)
        if result is None:
            print(f"FAIL each child's rules: no answer in {wait:g} s (is filterd running?)")
            return 1
        results.append(result)
    for result in results:
        for check in result["checks"]:
            said = "note" if check.get("notice") else "ok  " if check["ok"] else "FAIL"
            print(f"{said} {check['name']}: {check['detail']}")
    return 0 if all(result["ok"] for result in results) else 1


def update_lists(path: Path, online: bool) -> int:
    """Rebuild the index; print each source's outcome. Exit 1 only when no index was written."""
    from filterd.lists.update import build_index

    config = load_config_or_report(path)
    if config is None:
        return 1
    try:
        status = build_index(config.blocklists, online=online)
    except OSError as err:
        print(f"filterd: blocklist update failed, the previous index stays: {err}", file=sys.stderr)
        return 1
    for source in status["sources"]:
        bad = source.get("bad_lines", 0)
        unread = f", {bad} {'line' if bad == 1 else 'lines'} could not be read" if bad else ""
        print(
            f"{source['category']}: {source['source']}: {source['status']} "
            f"({source['domains']} domains{unread}) {source['reason']}"
        )
    print(
        f"index: {status['domains']} domains in {status['seconds']} s, "
        f"{status['failures']} source(s) failed"
    )
    return 0


def check_curated(path: Path, server_text: str | None) -> int:
    """Print each curated entry that does not resolve or has no date; exit 1 when the server
    never answered (the check said nothing) or an entry has no date."""
    from filterd.lists.curated import check

    config = load_config_or_report(path)
    if config is None:
        return 1
    if server_text:
        host, _, port = server_text.rpartition(":")
        server = (host.strip("[]"), int(port))
    else:
        upstream = config.upstreams[0]
        server = (upstream.host, upstream.port)
    outcomes = check(config.blocklists.lists_update.shipped, server)
    undated = 0
    for outcome in outcomes:
        entry = outcome.entry
        if entry.checked is None:
            undated += 1
            print(f"{entry.category}: {entry.name}: no '# checked YYYY-MM-DD' date")
        if outcome.answer != "resolves":
            print(f"{entry.category}: {entry.name}: {outcome.answer} (checked {entry.checked})")
    silent = sum(1 for o in outcomes if o.answer == "no answer")
    resolving = sum(1 for o in outcomes if o.answer == "resolves")
    print(
        f"{len(outcomes)} curated entries: {resolving} resolve, {len(outcomes) - resolving} do"
        f" not (review those by hand, then update their dates); asked {server[0]}:{server[1]}"
    )
    return 1 if undated or (outcomes and silent == len(outcomes)) else 0


def check_config(path: Path, rules: Path | None = None) -> int:
    """Print each problem as `key.path: reason` (rules problems prefixed with the rules file's
    name); exit 1 when there is any."""
    from dashboard.settings import check_dashboard_section  # this command checks both programs
    from filterd.catalogue.load import CATALOGUE_FILE, load_catalogue
    from filterd.catalogue.service import catalogue_path
    from filterd.lists.settings import SHIPPED_LISTS
    from filterd.rules.parse import load_rules

    failed = False
    apps_path = CATALOGUE_FILE
    shipped = SHIPPED_LISTS
    config = loaded = None
    try:
        config = load_config(path, check_dashboard_section)
        rules = rules or config.rules
        apps_path = catalogue_path(config.blocklists.lists_update.shipped)
        shipped = config.blocklists.lists_update.shipped
        print(f"{path}: ok")
    except ConfigError as err:
        for problem in err.problems:
            print(problem)
        failed = True
    failed |= not _check_name_patterns(shipped)
    catalogue = None
    try:
        catalogue = load_catalogue(apps_path)
        print(f"{apps_path}: ok ({len(catalogue.services)} apps)")
    except ConfigError as err:
        for problem in err.problems:
            print(f"{apps_path}: {problem}")
        failed = True
    if rules is not None:
        try:
            loaded = load_rules(rules, catalogue)
            print(f"{rules}: ok ({len(loaded.children)} children, {len(loaded.devices)} devices)")
        except ConfigError as err:
            for problem in err.problems:
                print(f"{rules}: {problem}")
            failed = True
    if config is not None:
        for warning in block_page_warnings(config, loaded):
            print(f"warning: {warning}")
    return 1 if failed else 0


def block_page_warnings(config: Any, rules: Any) -> list[str]:
    """The block_page answer chosen (by the household's lists or a child's rules) where no
    block page is served: those devices would be sent to the box, where nothing answers."""
    from filterd.dns.block_answers import BlockStyle

    if config.dashboard.get("http_listen") is not None:
        return []
    users = []
    if config.blocklists.blocked_answer.style is BlockStyle.BLOCK_PAGE:
        users.append("the household's lists (blocked_answer.style)")
    for child in rules.children.values() if rules is not None else ():
        if child.blocked_answer is BlockStyle.BLOCK_PAGE:
            users.append(f"{child.name}'s rules")
    if not users:
        return []
    return [
        f"the block_page answer is chosen by {', '.join(users)}, but no block page is served"
        " (dashboard.http_listen is not set), so a blocked site on those devices points at the"
        " box and finds nothing there: set dashboard.http_listen (port 80 on an appliance) or"
        " choose null_ip or nxdomain"
    ]


def _check_name_patterns(shipped: Path) -> bool:
    """Print the name-patterns file's problems by line (the daemon leaves such lines out)."""
    from filterd.lists.patterns import FILE_NAME, parse_patterns

    path = shipped / FILE_NAME
    if not path.exists():
        return True
    try:
        patterns, problems = parse_patterns(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeError) as err:
        print(f"{path}: cannot be read: {err}")
        return False
    for problem in problems:
        print(f"{path}: line {problem.line}: {problem.reason}")
    if not problems:
        print(f"{path}: ok ({len(patterns.rules)} patterns, {len(patterns.exceptions)} exceptions)")
    return not problems


def run_daemon(path: Path, level: str) -> int:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = load_config(path)
    except ConfigError as err:
        print(f"filterd: refusing to start, {path} has problems:", file=sys.stderr)
        for problem in err.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    from filterd.daemon import Daemon  # imported late: check-config stays light

    try:
        import uvloop
    except ImportError:
        uvloop = None

    async def main_task() -> None:
        await Daemon(config, path).run()

    try:
        if uvloop is not None:
            uvloop.run(main_task())
        else:
            asyncio.run(main_task())
    except OSError as err:
        print(f"filterd: cannot start: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
