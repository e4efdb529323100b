"""deploy/install.sh (issue 13), run into a scratch root as a box would be installed: both
services as systemd units that `systemd-analyze verify` accepts (each its own user, port
capability only), settings for the LAN, the closing words a carer reads (addresses, the
certificate's fingerprint, the set-up code, the router change), an upgrade in place that keeps
every setting, account, rule and log, and an uninstall."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from tests.support.dashboard_home import add_user
from tests.support.installer import WEB_ANY, a_debian_box, box_address, install_into, root_view
from tests.support.upstream_process import PROJECT_ROOT

UNITS = ("filterd.service", "filterd-dashboard.service")
BACKUP_UNITS = ("filterd-backup.service", "filterd-backup.timer")  # the nightly backup
PASSWORD = "a long pass phrase for the box"


def assert_subscribed_to_public_lists(lists: dict[str, list[str]]) -> None:
    """Every category with a public source in blocklists/sources.yaml downloads at least one;
    each is a source from that catalogue whose licence allows a home to use it (none
    non-commercial only), named in the README with its licence."""
    catalogue = yaml.safe_load((PROJECT_ROOT / "blocklists/sources.yaml").read_text())["sources"]
    readme = (PROJECT_ROOT / "README.md").read_text()
    by_url = {s["url"]: s for sources in catalogue.values() for s in sources}
    assert {c for c, sources in catalogue.items() if sources} == set(lists)
    for category, urls in lists.items():
        for url in urls:
            source = by_url[url]
            assert source in catalogue[category], f"{url} is not a {category} list"
            assert "NC" not in source["licence"], source["name"]
            assert f"`{source['name']}` ({source['licence']})" in readme, source["name"]


def test_install_verify_upgrade_and_uninstall(tmp_path: Path) -> None:
    root = a_debian_box(tmp_path)
    first = install_into(root, "--link-venv", str(Path(sys.executable).parents[1]))
    said = first.stdout

    # Nothing the scratch root cannot hold is done, and each such step says so.
    for step in ("creating the users", "starting the services", "installing python3"):
        assert f"left out in --root mode: {step}" in said

    # Both units, verified by systemd itself (a warning counts as a failure).
    units = root / "etc/systemd/system"
    verify = subprocess.run(
        [
            "systemd-analyze",
            "verify",
            f"--root={root}",
            *(f"/etc/systemd/system/{u}" for u in (*UNITS, *BACKUP_UNITS)),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert verify.returncode == 0 and not verify.stdout + verify.stderr, verify.stderr
    for unit, user in zip(UNITS, ("filterd", "filterd-web"), strict=True):
        text = (units / unit).read_text()
        assert f"\nUser={user}\n" in text and "User=root" not in text
        assert re.search(r"^AmbientCapabilities=.*CAP_NET_BIND_SERVICE", text, re.M)
        assert "NoNewPrivileges=yes" in text and "ProtectSystem=strict" in text
        assert (units / "multi-user.target.wants" / unit).is_symlink(), f"{unit} not enabled"
    assert "filterd dashboard --config /etc/filterd/filterd.yaml" in (units / UNITS[1]).read_text()
    nightly = (units / BACKUP_UNITS[0]).read_text()
    assert "\nUser=filterd-web\n" in nightly and "filterd backup --config" in nightly
    assert (units / "timers.target.wants" / BACKUP_UNITS[1]).is_symlink(), "backup not enabled"

    # Settings for a box on the LAN: DNS on 53, the dashboard on 443 and 80 of every address.
    config = yaml.safe_load((root / "etc/filterd/filterd.yaml").read_text())
    assert config["listen"] == ["0.0.0.0:53", "[::]:53"]
    assert config["dashboard"]["listen"] == f"{WEB_ANY}:443"
    assert config["dashboard"]["http_listen"] == f"{WEB_ANY}:80"
    assert config["dashboard"]["database"] == "/var/lib/filterd-web/dashboard.db"
    assert "filterd.home.arpa" in config["dashboard"]["allowed_hosts"]
    assert_subscribed_to_public_lists(config["lists"])
    rules = yaml.safe_load((root / "var/lib/filterd/rules.yaml").read_text())
    assert rules["unknown_devices"] == "strict" and rules["children"] == {}
    view = root_view(root)
    checked = subprocess.run(
        [sys.executable, "-m", "filterd", "check-config", str(view)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stdout

    # The closing words: where the dashboard is, how to check it, the code, the router.
    assert "https://filterd.home.arpa" in said
    fingerprint = re.search(r"^\s+((?:[0-9A-F]{2}:){31}[0-9A-F]{2})$", said, re.M)
    assert fingerprint, said
    code = (root / "var/lib/filterd-web/setup-code").read_text().strip()
    assert code and f"take the box over:   {code}" in said
    assert "set the DNS server to" in said and "leave the second DNS server empty" in said
    shown = subprocess.run(
        [sys.executable, "-m", "filterd", "certificate", "--config", str(view)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=60,
    ).stdout
    assert fingerprint.group(1) in shown  # the fingerprint printed is the box's own

    # The carer's own: a changed setting, a child, an account, filterd's logs.
    config_file = root / "etc/filterd/filterd.yaml"
    config_file.write_text(config_file.read_text() + "# our router is the grey one\n")
    rules_file = root / "var/lib/filterd/rules.yaml"
    rules_file.write_text(
        rules_file.read_text().replace(
            "children: {}", "children:\n  sam: {name: Sam, age_band: '9_12'}"
        )
    )
    add_user(view, "admin", "administrator", PASSWORD)
    # The nightly unit's command, on the installed settings: an archive where the unit keeps them.
    nightly_command = re.search(r"^ExecStart=\S+/filterd (.*)$", nightly, re.M).group(1).split()
    assert nightly_command[:3] == ["backup", "--config", "/etc/filterd/filterd.yaml"]
    ran = subprocess.run(
        [sys.executable, "-m", "filterd", "backup", "--config", str(view), *nightly_command[3:]],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stderr
    assert len(list((root / "var/lib/filterd-web/backups").glob("filterd-backup-*.tar.gz"))) == 1
    log = root / "var/lib/filterd/filterd.db"
    log.write_bytes(b"the query log, as filterd left it")
    kept = {
        path: path.read_bytes()
        for path in (config_file, rules_file, log, root / "var/lib/filterd-web/dashboard.db")
    }
    (root / "opt/filterd/stale-file-from-the-old-release").write_text("old")

    again = install_into(root, "--link-venv", str(Path(sys.executable).parents[1]))
    assert "filterd is upgraded. Every setting, account, rule and log was kept." in again.stdout
    assert "download no public blocklists" not in again.stdout  # they are subscribed
    assert "The dashboard is already set up" in again.stdout
    for path, before in kept.items():
        assert path.read_bytes() == before, f"{path} changed on upgrade"
    assert not (root / "opt/filterd/stale-file-from-the-old-release").exists()

    # Uninstall: the services and the code go; the carer's data stays unless purged.
    gone = install_into(root, "--uninstall")
    assert "Its settings" in gone.stdout
    assert not (units / UNITS[0]).exists() and not (units / UNITS[1]).exists()
    assert not (units / "multi-user.target.wants" / UNITS[0]).exists()
    assert not (units / BACKUP_UNITS[1]).exists()
    assert not (units / "timers.target.wants" / BACKUP_UNITS[1]).exists()
    assert not (root / "opt/filterd").exists()
    assert all(path.read_bytes() == before for path, before in kept.items())
    install_into(root, "--uninstall", "--purge")
    assert not (root / "etc/filterd").exists() and not (root / "var/lib/filterd").exists()
    assert not (root / "var/lib/filterd-web").exists()


def test_upgrading_the_previous_release_keeps_its_settings_and_says_what_to_change(
    tmp_path: Path,
) -> None:
    """The previous installer wrote the example config with only DNS moved to port 53, so its
    dashboard answered on 127.0.0.1 alone: kept as it is, and the carer is told what to change."""
    root = a_debian_box(tmp_path)
    old = (PROJECT_ROOT / "config/filterd.example.yaml").read_text()
    old = old.replace('"127.0.0.1:1053"', '"0.0.0.0:53"').replace('"[::1]:1053"', '"[::]:53"')
    old = old.replace('"var/filterd.db"', '"/var/lib/filterd/filterd.db"')
    old = old.replace('"var/rules.yaml"', '"/var/lib/filterd/rules.yaml"')
    (root / "etc/filterd").mkdir(parents=True)
    (root / "etc/filterd/filterd.yaml").write_text(old)
    (root / "var/lib/filterd").mkdir(parents=True)
    rules = (PROJECT_ROOT / "config/rules.example.yaml").read_text()  # a home with children
    (root / "var/lib/filterd/rules.yaml").write_text(rules)

    done = install_into(root, "--link-venv", str(Path(sys.executable).parents[1]))
    assert "filterd is upgraded" in done.stdout
    assert "let the dashboard answer only on this box" in done.stdout
    # Its settings download no public lists (the example's "#+" lines stay comments there).
    assert "Note: your settings download no public blocklists" in done.stdout
    assert 'copy the lines marked\n"#+" under "lists:"' in done.stdout
    # Kept as it was, but for the box's address added to the hosts the dashboard answers to.
    hosts = '  allowed_hosts: ["localhost", "127.0.0.1", "filterd.home.arpa"'
    assert (root / "etc/filterd/filterd.yaml").read_text() == old.replace(
        hosts, f'{hosts}, "{box_address()}"'
    )
    assert (root / "var/lib/filterd/rules.yaml").read_text() == rules
    assert (root / "etc/systemd/system/filterd-dashboard.service").exists()
