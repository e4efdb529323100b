"""The self-test tells the truth after the illegal-content source is removed from the settings:
the index in force still blocks its names until the next update, so "no list has any name in
it, so nothing is blocked for it" (what the outside check found it said) was false."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from filterd.lists.categories import BY_ID
from filterd.lists.index import domain_to_wire
from filterd.lists.service import load_protected
from filterd.lists.settings import BlocklistSettings, ListsUpdate
from filterd.lists.store import ListStore
from filterd.lists.update import build_index, index_path
from filterd.selftest.samples import sample_names, uncovered

ILLEGAL = 1 << BY_ID["illegal"].bit


def test_a_removed_illegal_source_still_in_force_is_said_so(tmp_path: Path):
    source = tmp_path / "licensed.txt"
    source.write_text("illegal-one.test\nillegal-two.test\n")
    configured = BlocklistSettings(
        lists={"illegal": (str(source),)}, lists_update=ListsUpdate(directory=tmp_path / "lists")
    )
    build_index(configured, online=False)
    removed = replace(configured, lists={})  # the source taken out of the settings

    store = ListStore(index_path(removed), *load_protected(removed))
    store.refresh()
    assert store.categories(domain_to_wire("illegal-one.test")) & ILLEGAL, "still in force"
    store.close()

    assert sample_names(removed, "illegal") == []
    said = uncovered(removed, "illegal")
    assert "nothing is blocked" not in said
    assert "still block 2 names from a list that was removed, until the next update" in said

    build_index(removed, online=False)  # the next update: now nothing is blocked for it
    assert uncovered(removed, "illegal").startswith("no list has any name in it, so nothing")
