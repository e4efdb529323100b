"""The lists filterd ships (blocklists/), compiled into a real index for in-process tests."""

from __future__ import annotations

from pathlib import Path

from filterd.lists.service import load_protected
from filterd.lists.settings import SHIPPED_LISTS, BlocklistSettings, ListsUpdate
from filterd.lists.store import ListStore
from filterd.lists.update import build_index, index_path


def shipped_store(tmp_path: Path, shipped: Path = SHIPPED_LISTS) -> ListStore:
    """A ListStore over an index built offline from `shipped` (the project's lists by default)."""
    settings = BlocklistSettings(lists_update=ListsUpdate(directory=tmp_path, shipped=shipped))
    build_index(settings, online=False)
    store = ListStore(index_path(settings), *load_protected(settings))
    store.refresh()
    return store
