"""Sample names of each category, taken from the lists filterd compiles (shipped lists, local
files, the last downloaded copy of each remote source), so the test asks what is really listed."""

from __future__ import annotations

from pathlib import Path

from filterd.lists.fetch import stored_body
from filterd.lists.parse import LineCounts, iter_names
from filterd.lists.settings import BlocklistSettings

SAMPLES = 3  # names tried per category


def list_texts(settings: BlocklistSettings, category: str) -> list[str]:
    texts = []
    shipped = settings.lists_update.shipped / f"{category}.txt"
    if shipped.exists():
        texts.append(shipped.read_text(encoding="utf-8", errors="replace"))
    state_dir = settings.lists_update.directory / "sources"
    for source in settings.lists.get(category, ()):
        if source.startswith(("http://", "https://")):
            body = stored_body(source, state_dir)
        else:
            path = Path(source.removeprefix("file://"))
            body = path.read_text(encoding="utf-8", errors="replace") if path.exists() else None
        if body:
            texts.append(body)
    return texts


def sample_names(settings: BlocklistSettings, category: str, count: int = SAMPLES) -> list[str]:
    """Up to `count` blocked names of a category ([] when no list covers it)."""
    found: list[str] = []
    for text in list_texts(settings, category):
        for is_exception, name in iter_names(text, LineCounts()):
            if not is_exception and name not in found:
                found.append(name)
                if len(found) == count:
                    return found
    return found
