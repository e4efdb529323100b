"""Whatever is put where the blocklist index belongs, filterd keeps answering.

Found from outside (issue 11, finding 2 again): the index was opened and read to its end on
the event loop, so a FIFO at index.bin blocked the open and every DNS answer with it, and a
link to /dev/zero would read until memory ran out. Now only a regular file is read, without
blocking, and no more than its size; anything else is refused and the index in force stays."""

from __future__ import annotations

import os
import threading

import pytest

from filterd.lists.index import BlockIndex, DamagedIndex, IndexBuilder


def test_a_fifo_in_place_of_the_index_is_refused_at_once(tmp_path) -> None:
    path = tmp_path / "index.bin"
    os.mkfifo(path)
    outcome: list[BaseException | None] = []

    def load() -> None:
        try:
            BlockIndex(path)
            outcome.append(None)
        except BaseException as err:
            outcome.append(err)

    loader = threading.Thread(target=load, daemon=True)
    loader.start()
    loader.join(2.0)
    stuck = loader.is_alive()
    if stuck:  # the old code waits for a writer: give it one so the thread ends
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        loader.join(2.0)
    assert not stuck, "loading the index blocked on a FIFO (every DNS answer would wait)"
    assert isinstance(outcome[0], DamagedIndex)
    assert "not a regular file" in str(outcome[0])


def test_a_regular_index_still_loads(tmp_path) -> None:
    path = tmp_path / "index.bin"
    builder = IndexBuilder()
    builder.add_name("betfair.com", 3)
    builder.write(path)
    index = BlockIndex(path)
    assert index.domains == 1
    index.close()
    with pytest.raises(OSError):  # a folder: refused (the store keeps the index in force)
        BlockIndex(tmp_path)
