"""The list index damaged on disk while filterd runs (finding 2 of issue 11): written over in
place with random bytes, or truncated in place. filterd keeps answering from the verified copy
it loaded, never answers a blocked name, and says why in its log once."""

from __future__ import annotations

import os
import time

import pytest

from tests.support.dns_client import addresses, ask
from tests.support.filterd_process import wait_for
from tests.support.lists import lists_config

GAMBLING = [f"casino{i}.example" for i in range(40)]


@pytest.fixture
def running(start_filterd, tmp_path):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / "gambling.txt").write_text("".join(f"{name}\n" for name in GAMBLING))
    config = lists_config(tmp_path, shipped)
    config["block_categories"] = ["illegal", "gambling"]
    filterd = start_filterd(**config)
    return filterd, tmp_path / "lists" / "index.bin"


def all_blocked(filterd) -> None:
    for name in GAMBLING:
        assert addresses(ask(filterd.port, name)) == ["0.0.0.0"], name


def test_random_bytes_written_over_the_index_in_place(running):
    filterd, index = running
    all_blocked(filterd)
    inode = os.stat(index).st_ino
    size = os.path.getsize(index)
    with open(index, "r+b") as file:  # same inode: what a careless copy or a bad disk does
        file.seek(64)
        file.write(os.urandom(size - 64))
    assert os.stat(index).st_ino == inode
    time.sleep(2.5)  # the daemon looks at the file every 2 s
    all_blocked(filterd)
    assert wait_for(lambda: filterd.metric("filterd_blocklist_swap_failures_total") >= 1)
    time.sleep(4.5)  # two more looks at the unchanged bad file
    assert filterd.log().count("cannot be used") == 1, "said once, not every 2 s"
    assert "checksum does not match" in filterd.log()
    assert "Traceback" not in filterd.log()


def test_index_truncated_in_place(running):
    filterd, index = running
    os.truncate(index, 1000)
    assert wait_for(lambda: filterd.metric("filterd_blocklist_swap_failures_total") >= 1)
    all_blocked(filterd)
    assert filterd.proc.poll() is None, "filterd must survive (no SIGBUS)"
    assert "cut short" in filterd.log()
