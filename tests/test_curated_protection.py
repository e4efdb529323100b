"""Essential services and name patterns in the running daemon: a downloaded list cannot block
a school platform, and a name built to be found is blocked though no list names it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.dns_client import addresses, ask
from tests.support.lists import lists_config, update_lists, wait_blocked, write_lists
from tests.support.query_log import outcomes


@pytest.fixture
def shipped(tmp_path: Path) -> Path:
    directory = write_lists(
        tmp_path / "shipped",
        helplines=["thinspo-recovery-line.example"],
        essential=["homework.example"],
    )
    (directory / "name_patterns.txt").write_text("eating_disorders thinspo\nexcept recovery-line\n")
    return directory


def test_a_downloaded_list_cannot_block_an_essential_service(
    start_filterd, tmp_path, shipped, list_files
):
    """A real list filed a school platform under games; the home blocks games."""
    list_files.files["/list.txt"] = b"0.0.0.0 homework.example\n0.0.0.0 games-portal.example\n"
    filterd = start_filterd(
        **lists_config(
            tmp_path,
            shipped,
            lists={"gaming": [list_files.url("/list.txt")]},
            block_categories=["gaming"],
        )
    )
    result = update_lists(filterd.config_path)
    assert result.returncode == 0, result.stderr
    wait_blocked(filterd.port, "games-portal.example")
    for name in ("homework.example", "www.homework.example"):
        assert addresses(ask(filterd.port, name)) != ["0.0.0.0"], name
    # Logged like any allowed name (unlike a helpline), with no category from the list.
    assert outcomes(filterd.db_path, "www.homework.example") == [("forwarded", "", "NOERROR")]


def test_a_name_built_to_be_found_is_blocked_by_its_pattern_and_a_helpline_is_not(
    start_filterd, tmp_path, shipped
):
    filterd = start_filterd(
        **lists_config(tmp_path, shipped, block_categories=["eating_disorders"])
    )
    wait_blocked(filterd.port, "daily-thinspo.blog-host.example")
    assert outcomes(filterd.db_path, "daily-thinspo.blog-host.example")[0][:2] == (
        "blocked",
        "eating_disorders",
    )
    assert addresses(ask(filterd.port, "thinspo-recovery-line.example")) != ["0.0.0.0"]
    assert addresses(ask(filterd.port, "plain-blog.blog-host.example")) != ["0.0.0.0"]
