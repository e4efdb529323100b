"""Health's blocklist part follows the settings file (issue 13's outside check): list
subscriptions added to filterd.yaml (and filterd reloaded) show on Health without restarting
the dashboard, and a file refused later leaves the last good list settings shown."""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

from dashboard.app import create_app
from dashboard.settings import check_dashboard_section
from filterd.config import load_config
from filterd.lists.update import build_index
from filterd.rules.guards import with_end_line
from tests.support.dashboard_app import RULES, logged_in

SOURCE = "http://127.0.0.1:9/gambling.txt"  # never fetched here: only named in the settings


def gambling_row(client) -> str:
    page = client.get("/health").get_data(as_text=True)
    text = re.sub(r"<[^>]+>", " ", page)
    text = re.sub(r"\s+", " ", text)
    found = re.search(r"gambling \d+ (.{0,60})", text)
    assert found, "Health shows no gambling row"
    return found.group(1)


def test_subscriptions_added_to_the_settings_show_on_health_without_a_restart(tmp_path: Path):
    (tmp_path / "rules.yaml").write_text(with_end_line(yaml.safe_dump(RULES)))
    settings = {
        "listen": ["127.0.0.1:1053"],
        "upstreams": ["127.0.0.1:1"],
        "database": str(tmp_path / "filterd.db"),
        "rules": str(tmp_path / "rules.yaml"),
        "dashboard": {"database": str(tmp_path / "dashboard.db")},
        "lists_update": {"directory": str(tmp_path / "lists"), "refresh_hours": 0},
    }
    path = tmp_path / "filterd.yaml"
    path.write_text(yaml.safe_dump(settings))
    config = load_config(path, check_dashboard_section)
    build_index(config.blocklists, online=False)  # filterd's first index: the shipped lists
    app = create_app(config, path)
    app.testing = True
    carer = logged_in(app, "jo", "administrator")
    assert gambling_row(carer).startswith("shipped with filterd")

    settings["lists"] = {"gambling": [SOURCE]}
    path.write_text(yaml.safe_dump(settings))
    os.utime(path, ns=(0, os.stat(path).st_mtime_ns + 1_000_000_000))  # a later write
    assert gambling_row(carer).startswith("not downloaded yet")

    path.write_text(path.read_text() + "unknown_key: 1\n")  # refused: the last good stays
    os.utime(path, ns=(0, os.stat(path).st_mtime_ns + 2_000_000_000))
    assert gambling_row(carer).startswith("not downloaded yet")
