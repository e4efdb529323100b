"""The catalogue of public lists (blocklists/sources.yaml), read only through
filterd.lists.public_sources: the shipped file is whole, and a damaged one is refused with the
key and the reason while Health's advice just says less."""

from __future__ import annotations

from pathlib import Path

import pytest

from filterd.lists.public_sources import (
    SourcesError,
    categories_with_public_sources,
    load_public_sources,
)


def test_the_shipped_catalogue_reads_whole_with_every_field():
    catalogue = load_public_sources()
    sources = [s for found in catalogue.values() for s in found]
    assert len({s.name for s in sources}) == len(sources), "a name used twice"
    assert all(s.url.startswith(("https://", "file://")) for s in sources)
    public = categories_with_public_sources()
    # What Health tells a carer: gambling has public lists; self-harm has none.
    assert "gambling" in public and "adult" in public
    assert "self_harm" not in public and "illegal" not in public


def write(folder: Path, text: str) -> Path:
    (folder / "sources.yaml").write_text(text, encoding="utf-8")
    return folder


def test_a_damaged_catalogue_is_refused_with_the_key_and_the_reason(tmp_path: Path):
    bad_format = (
        "sources:\n  adult:\n    - {name: a, url: 'https://x.example/a', format: csv,"
        " licence: MIT, note: n}\n"
    )
    with pytest.raises(SourcesError, match=r"sources\.adult\[0\]\.format: expected one of"):
        load_public_sources(write(tmp_path, bad_format))
    with pytest.raises(SourcesError, match=r"sources\.knitting: not a category"):
        load_public_sources(write(tmp_path, "sources:\n  knitting: []\n"))
    with pytest.raises(SourcesError, match=r"sources\.adult\[0\]\.licence: expected text"):
        load_public_sources(
            write(tmp_path, "sources:\n  adult:\n    - {name: a, url: u, format: hosts}\n")
        )
    # Health's advice then names no category as having a public list; nothing else changes.
    assert categories_with_public_sources(write(tmp_path, "sources: [\n")) == set()
    assert categories_with_public_sources(tmp_path / "missing") == set()
