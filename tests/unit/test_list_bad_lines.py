"""Illegal-content list lines the outside check found dropped without a word: `host:port`
(no scheme) and a URL whose path has spaces now block their host; a line that names no host
a DNS filter can block (an IP address) is counted, and `filterd lists update`, the status file
and Health's list part each say how many lines of each source could not be read."""

from __future__ import annotations

import time
from pathlib import Path

import yaml

from dashboard.data.list_health import list_health
from filterd.cli import update_lists
from filterd.config import load_config
from filterd.lists.categories import BY_ID
from filterd.lists.index import domain_to_wire
from filterd.lists.service import load_protected
from filterd.lists.store import ListStore
from filterd.lists.update import index_path, read_status
from tests.support.dashboard_app import logged_in, make_app

LINES = [
    "illegal-six.test:80",
    "http://10.9.9.9/bad",
    "illegal-nine.test/path with space",
    "https://illegal-ten.test/abuse/page.html",
]
ILLEGAL = 1 << BY_ID["illegal"].bit


def _config(tmp_path: Path) -> Path:
    source = tmp_path / "licensed-illegal.txt"
    source.write_text("\n".join(LINES) + "\n")
    config = tmp_path / "filterd.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "listen": ["127.0.0.1:1053"],
                "upstreams": ["127.0.0.1:1"],
                "database": str(tmp_path / "filterd.db"),
                "lists": {"illegal": [str(source)]},
                "lists_update": {"directory": str(tmp_path / "lists"), "refresh_hours": 0},
            }
        )
    )
    return config


def test_url_form_lines_block_their_host_and_bad_lines_are_counted(tmp_path, capsys):
    config_path = _config(tmp_path)
    assert update_lists(config_path, online=False) == 0
    printed = capsys.readouterr().out
    assert "(3 domains, 1 line could not be read)" in printed, printed

    settings = load_config(config_path).blocklists
    store = ListStore(index_path(settings), *load_protected(settings))
    store.refresh()
    for host in ("illegal-six.test", "illegal-nine.test", "www.illegal-ten.test"):
        assert store.categories(domain_to_wire(host)) & ILLEGAL, host
    store.close()

    status = read_status(settings)
    assert status is not None
    [source] = [s for s in status["sources"] if s["category"] == "illegal"]
    assert source["bad_lines"] == 1
    health = list_health(settings, None, time.time())
    assert health is not None
    assert [s.bad_lines for s in health.sources] == [1]


def test_health_says_how_many_lines_could_not_be_read(tmp_path):
    config_path = _config(tmp_path)
    assert update_lists(config_path, online=False) == 0
    (tmp_path / "app").mkdir()
    app = make_app(
        tmp_path / "app",
        extra={
            "lists": {"illegal": [str(tmp_path / "licensed-illegal.txt")]},
            "lists_update": {"directory": str(tmp_path / "lists")},
        },
    )
    page = logged_in(app, "Ad", "administrator").get("/health").get_data(as_text=True)
    assert "1 line could not be read</strong>, so it blocks nothing" in page
