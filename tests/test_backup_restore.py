"""Backup and restore of a home, on real parts: a home made through the real dashboard app and
real SQLite, `filterd backup` / `filterd restore` as a carer runs them, restored into a second
scratch install; damaged archives refused with the member and the reason."""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import tarfile
from pathlib import Path

import pytest
import yaml

from dashboard.app import create_app
from dashboard.data.db import connect
from filterd.cli import main
from filterd.config import load_config
from filterd.rules.guards import with_end_line
from tests.support.dashboard_app import (
    PASSWORD,
    RULES,
    app_on_settings_file,
    audit_trail_in,
    first_run_form,
)

STARTER = {"timezone": "Europe/London", "unknown_devices": "strict"}


def scratch_install(root: Path, rules: dict) -> Path:
    """A config, rules file and databases under `root`, as install.sh lays them out."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "rules.yaml").write_text(with_end_line(yaml.safe_dump(rules)))
    config = root / "filterd.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "listen": ["127.0.0.1:1053"],
                "upstreams": ["127.0.0.1:1"],
                "database": str(root / "filterd.db"),
                "rules": str(root / "rules.yaml"),
                "dashboard": {"database": str(root / "web" / "dashboard.db")},
            }
        )
    )
    return config


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home with two children, an administrator made at first run, and audit rows."""
    config = scratch_install(tmp_path / "box1", RULES)
    app = app_on_settings_file(config)
    client = app.test_client()
    assert client.post("/setup", data=first_run_form(app)).status_code == 302
    client.post("/logout", data={})
    assert client.post("/login", data={"name": "Jo", "password": PASSWORD}).status_code == 302
    return config


def test_backup_then_restore_into_a_second_install(home: Path, tmp_path: Path, capsys) -> None:
    archive = tmp_path / "home.tar.gz"
    assert main(["backup", "--config", str(home), "--with-query-log", "--out", str(archive)]) == 0
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
    assert names[0] == "manifest.json"
    assert {"filterd.yaml", "rules.yaml", "dashboard.db"} <= set(manifest["members"])
    assert manifest["format"] == 1 and manifest["schemas"]["dashboard"] >= 1
    before = audit_trail_in(tmp_path / "box1" / "web" / "dashboard.db")
    assert before, "the first run and the login wrote audit rows"

    second = scratch_install(tmp_path / "box2", STARTER)
    capsys.readouterr()
    assert main(["restore", str(archive), "--config", str(second), "--dry-run"]) == 0
    said = capsys.readouterr().out
    assert "Children added: Alex, Sam." in said
    assert "Accounts added: Jo (administrator)." in said
    assert "Dry run: nothing was changed." in said
    assert not (tmp_path / "box2" / "web" / "dashboard.db").exists()

    assert main(["restore", str(archive), "--config", str(second)]) == 0
    restored = yaml.safe_load((tmp_path / "box2" / "rules.yaml").read_text())
    assert set(restored["children"]) == {"sam", "alex"}
    # the restored settings keep the second install's own file locations
    assert load_config(second).rules == tmp_path / "box2" / "rules.yaml"
    after = audit_trail_in(tmp_path / "box2" / "web" / "dashboard.db")
    assert after[: len(before)] == before
    assert after[-1][1] == "restored from backup"
    client = app_on_settings_file(second).test_client()
    assert client.post("/login", data={"name": "Jo", "password": PASSWORD}).status_code == 302
    assert "Sam" in client.get("/children/").get_data(as_text=True)

    # the second install is in use now: a restore over it needs --force and keeps a copy
    assert main(["restore", str(archive), "--config", str(second)]) == 1
    assert "already has children or accounts" in capsys.readouterr().err
    assert main(["restore", str(archive), "--config", str(second), "--force"]) == 0
    assert list((tmp_path / "box2" / "web").glob("before-restore-*.tar.gz"))


def _rewrite(archive: Path, out: Path, change) -> None:
    with tarfile.open(archive) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]
    with tarfile.open(out, "w:gz") as tar:
        for member, data in members:
            data = change(member.name, data)
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))


def test_tampered_and_cut_short_archives_are_refused(home: Path, tmp_path: Path, capsys) -> None:
    archive = tmp_path / "home.tar.gz"
    assert main(["backup", "--config", str(home), "--out", str(archive)]) == 0
    second = scratch_install(tmp_path / "box2", STARTER)
    rules_before = (tmp_path / "box2" / "rules.yaml").read_bytes()

    tampered = tmp_path / "tampered.tar.gz"
    _rewrite(
        archive, tampered, lambda n, d: d.replace(b"13_15", b"16_17") if n == "rules.yaml" else d
    )
    capsys.readouterr()
    assert main(["restore", str(tampered), "--config", str(second)]) == 1
    err = capsys.readouterr().err
    assert "rules.yaml: its contents do not match the checksum in the manifest" in err

    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    assert main(["restore", str(cut), "--config", str(second), "--dry-run"]) == 1
    err = capsys.readouterr().err
    assert re.search(
        r"(filterd\.yaml|rules\.yaml|dashboard\.db|archive after \S+)"
        r": the archive is cut short or damaged here",
        err,
    ), err

    # gzip whole but the tar stream stops after the manifest: the missing members are named
    with gzip.open(archive) as raw:
        tar_bytes = raw.read()
    short = tmp_path / "short.tar.gz"
    short.write_bytes(gzip.compress(tar_bytes[:1536]))
    assert main(["restore", str(short), "--config", str(second)]) == 1
    err = capsys.readouterr().err
    assert "missing from the archive" in err or "cut short" in err

    newer = tmp_path / "newer.tar.gz"

    def future(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["schemas"]["dashboard"] = 99
        return json.dumps(manifest).encode()

    _rewrite(archive, newer, future)
    assert main(["restore", str(newer), "--config", str(second)]) == 1
    assert "dashboard.db: schema version 99 is newer than this release's" in capsys.readouterr().err
    # nothing of the second install was touched by any refused archive
    assert (tmp_path / "box2" / "rules.yaml").read_bytes() == rules_before
    assert not (tmp_path / "box2" / "web" / "dashboard.db").exists()


def test_nightly_directory_keeps_the_newest(home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    for day in range(1, 6):
        (folder / f"filterd-backup-202611{day:02d}-020000.tar.gz").write_bytes(b"old")
    assert main(["backup", "--config", str(home), "--out", str(folder), "--keep", "3"]) == 0
    kept = sorted(p.name for p in folder.iterdir())
    assert len(kept) == 3 and kept[:2] == [
        "filterd-backup-20261104-020000.tar.gz",
        "filterd-backup-20261105-020000.tar.gz",
    ]


def test_dashboard_download_is_for_administrators_and_audited(home: Path, tmp_path: Path):
    from dashboard.backup.archive import read_checked
    from dashboard.settings import check_dashboard_section
    from tests.support.dashboard_app import add_account

    app = create_app(load_config(home, check_dashboard_section), home)
    app.testing = True
    add_account(app, "Carla", "carer")
    carer = app.test_client()
    assert carer.post("/login", data={"name": "Carla", "password": PASSWORD}).status_code == 302
    page = carer.get("/health").get_data(as_text=True)
    assert "Download a backup" not in page
    csrf = _csrf(carer)
    assert carer.post("/health/backup", data={"csrf": csrf}).status_code == 403

    admin = app.test_client()
    assert admin.post("/login", data={"name": "Jo", "password": PASSWORD}).status_code == 302
    assert "Download a backup" in admin.get("/health").get_data(as_text=True)
    assert admin.post("/health/backup", data={}).status_code in (400, 403)  # no CSRF token
    got = admin.post("/health/backup", data={"csrf": _csrf(admin)})
    assert got.status_code == 200
    assert got.headers["Content-Disposition"].startswith("attachment; filename=filterd-backup-")
    saved = tmp_path / "downloaded.tar.gz"
    saved.write_bytes(got.data)
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    manifest = read_checked(saved, unpacked)
    assert "filterd.db" not in manifest["members"]  # the query log stays on the box
    users = audit_trail_in(tmp_path / "box1" / "web" / "dashboard.db")
    assert users[-1][:2] == ("Jo", "backup.download")
    assert not any(action == "backup.download" for user, action, _ in users if user == "Carla")


def _csrf(client) -> str:
    page = client.get("/account/").get_data(as_text=True)
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def test_an_archive_from_the_release_before_schema_versions_is_migrated(
    home: Path, tmp_path: Path
) -> None:
    """dashboard.db as the release before schema versions wrote it (tests/fixtures), in an
    otherwise sound archive: restored, then upgraded in place with its audit trail kept."""
    import hashlib

    old = (Path(__file__).parent / "fixtures" / "release-0-dashboard.db").read_bytes()
    archive = tmp_path / "home.tar.gz"
    assert main(["backup", "--config", str(home), "--out", str(archive)]) == 0

    def older(name: str, data: bytes) -> bytes:
        if name == "dashboard.db":
            return old
        if name == "manifest.json":
            manifest = json.loads(data)
            manifest["schemas"]["dashboard"] = 0
            manifest["members"]["dashboard.db"] = {
                "sha256": hashlib.sha256(old).hexdigest(),
                "size": len(old),
            }
            return json.dumps(manifest).encode()
        return data

    previous = tmp_path / "previous.tar.gz"
    _rewrite(archive, previous, older)
    second = scratch_install(tmp_path / "box2", STARTER)
    assert main(["restore", str(previous), "--config", str(second)]) == 0
    restored = tmp_path / "box2" / "web" / "dashboard.db"
    db = connect(restored)
    try:
        columns = {row[1] for row in db.execute("PRAGMA table_info(audit)")}
        assert db.execute("PRAGMA user_version").fetchone()[0] >= 1 and "source" in columns
        # the old release's review is kept, in the append-only table migration made
        assert db.execute("SELECT reviewer, outcome FROM reviews").fetchall()[0][0] == "Lee"
    finally:
        db.close()
    # (the fixture's audit entry is years old: the audit trail's retention prunes it)
    assert audit_trail_in(restored)[-1][:2] == ("filterd restore", "restored from backup")


def test_a_database_newer_than_its_manifest_says_is_refused(home: Path, tmp_path: Path, capsys):
    """The manifest and its checksums agree, but the dashboard.db inside is a newer schema than
    this release reads (or no database at all): refused from the file itself, nothing touched."""
    import hashlib
    import sqlite3

    archive = tmp_path / "home.tar.gz"
    assert main(["backup", "--config", str(home), "--out", str(archive)]) == 0
    second = scratch_install(tmp_path / "box2", STARTER)

    with tarfile.open(archive) as tar:
        original = tar.extractfile("dashboard.db").read()

    def with_member(changed: bytes):
        def rewrite(name: str, data: bytes) -> bytes:
            if name == "dashboard.db":
                return changed
            if name == "manifest.json":  # checksums that agree with the changed file
                manifest = json.loads(data)
                manifest["members"]["dashboard.db"] = {
                    "sha256": hashlib.sha256(changed).hexdigest(),
                    "size": len(changed),
                }
                return json.dumps(manifest).encode()
            return data

        return rewrite

    def newer(data: bytes) -> bytes:
        path = tmp_path / "newer.db"
        path.write_bytes(data)
        db = sqlite3.connect(path)
        db.execute("PRAGMA user_version = 99")
        db.commit()
        db.close()
        return path.read_bytes()

    for replacement, words in (
        (newer, "dashboard.db: schema version 99 is newer than this release's"),
        (lambda data: b"not a database" * 100, "dashboard.db: not a database"),
    ):
        out = tmp_path / "altered.tar.gz"
        _rewrite(archive, out, with_member(replacement(original)))
        capsys.readouterr()
        assert main(["restore", str(out), "--config", str(second)]) == 1
        assert words in capsys.readouterr().err
    assert not (tmp_path / "box2" / "web" / "dashboard.db").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give files to another user")
def test_a_restore_run_as_root_leaves_the_files_to_the_service_users(
    home: Path, tmp_path: Path
) -> None:
    """On a box `sudo filterd restore` must not leave root-owned files the services cannot
    write: each keeps its owner and mode, a new one takes its folder's owner."""
    archive = tmp_path / "home.tar.gz"
    assert main(["backup", "--config", str(home), "--out", str(archive)]) == 0
    second = scratch_install(tmp_path / "box2", STARTER)
    web = tmp_path / "box2" / "web"
    web.mkdir()
    os.chown(web, 65534, 65534)
    rules = tmp_path / "box2" / "rules.yaml"
    os.chown(rules, 65533, 65533)
    rules.chmod(0o660)
    assert main(["restore", str(archive), "--config", str(second)]) == 0
    assert (rules.stat().st_uid, rules.stat().st_mode & 0o777) == (65533, 0o660)
    for name in ("dashboard.db", "dashboard.db-wal", "dashboard.db-shm"):
        if (web / name).exists():
            assert (web / name).stat().st_uid == 65534, name


def test_a_restore_onto_a_new_box_keeps_its_addresses_comments_and_ends_the_setup_code(
    home: Path, tmp_path: Path
) -> None:
    """The old box's settings, with the carer's comments and the old box's address: restored
    onto a new box, the address the new box's installer printed still answers, the comments
    stay, and the set-up code (an administrator came back) is gone."""
    old_text = home.read_text()
    old_text = old_text.replace(
        "dashboard:\n",
        "# Our settings: ask Jo before changing\ndashboard:\n"
        "  allowed_hosts: [localhost, 10.0.0.5]  # the old box\n",
    )
    home.write_text(old_text + "# end of our settings\n")
    archive = tmp_path / "home.tar.gz"
    assert main(["backup", "--config", str(home), "--out", str(archive)]) == 0

    second = scratch_install(tmp_path / "box2", STARTER)
    here = yaml.safe_load(second.read_text())
    here["dashboard"]["allowed_hosts"] = ["localhost", "filterd.home.arpa", "192.168.1.9"]
    second.write_text(yaml.safe_dump(here))
    second_db = tmp_path / "box2" / "web" / "dashboard.db"
    app_on_settings_file(second)  # the dashboard's first start on the new box makes its set-up code
    assert (second_db.parent / "setup-code").exists()
    refused = "This address is not one the dashboard answers to"
    before = (
        app_on_settings_file(second).test_client().get("/login", headers={"Host": "192.168.1.9"})
    )
    assert before.status_code != 400 and refused not in before.get_data(as_text=True)

    assert main(["restore", str(archive), "--config", str(second), "--force"]) == 0
    restored = second.read_text()
    assert restored.startswith(old_text.split("# Our settings")[0])  # the rest as it was
    assert "# Our settings: ask Jo before changing\n" in restored
    assert restored.endswith("# end of our settings\n")
    settings = yaml.safe_load(restored)
    assert settings["database"] == str(tmp_path / "box2" / "filterd.db")
    assert settings["dashboard"]["database"] == str(second_db)
    assert settings["dashboard"]["allowed_hosts"][:3] == [
        "localhost",
        "filterd.home.arpa",
        "192.168.1.9",
    ]
    after = (
        app_on_settings_file(second).test_client().get("/login", headers={"Host": "192.168.1.9"})
    )
    assert after.status_code == 200 and refused not in after.get_data(as_text=True)
    assert not (second_db.parent / "setup-code").exists()
