"""Sample names of each category, taken from the lists filterd compiles (shipped lists, local
files, the last downloaded copy of each remote source), so the test asks what is really listed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from filterd.lists.categories import ALWAYS_BLOCKED
from filterd.lists.fetch import state_paths
from filterd.lists.parse import LineCounts, iter_names
from filterd.lists.settings import BlocklistSettings
from filterd.lists.update import read_status

SAMPLES = 3  # names tried per category
CHUNK_BYTES = 64 * 1024  # read a list this much at a time: a few names need only its start


def list_files(settings: BlocklistSettings, category: str) -> Iterator[Path]:
    """The files a category is compiled from: shipped, local, each remote source's last copy."""
    shipped = settings.lists_update.shipped / f"{category}.txt"
    if shipped.exists():
        yield shipped
    state_dir = settings.lists_update.directory / "sources"
    for source in settings.lists.get(category, ()):
        if source.startswith(("http://", "https://")):
            path = state_paths(source, state_dir)[1]
        else:
            path = Path(source.removeprefix("file://"))
        if path.exists():
            yield path


def list_chunks(path: Path) -> Iterator[str]:
    """A list's text in whole lines, CHUNK_BYTES at a time: a list of a million names is never
    read whole (it was: ~40 MB of text held at once, on the event loop, for three names)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as lines:
            while chunk := lines.readlines(CHUNK_BYTES):
                yield "".join(chunk)
    except OSError:
        return


def sample_names(settings: BlocklistSettings, category: str, count: int = SAMPLES) -> list[str]:
    """Up to `count` blocked names of a category ([] when no list covers it)."""
    found: list[str] = []
    for path in list_files(settings, category):
        counts = LineCounts()
        for text in list_chunks(path):
            for is_exception, name in iter_names(text, counts):
                if not is_exception and name not in found:
                    found.append(name)
                    if len(found) == count:
                        return found
    return found


# The illegal tier needs a list an organisation is licensed to use (the IWF's): nothing public
# or shipped covers it, so until one is added this is a standing notice, not a failed check.
NO_ILLEGAL_LIST = "No illegal-content list yet: add the IWF list your licence gives you"


def standing_notice(settings: BlocklistSettings, category: str) -> str | None:
    """The plain-words notice for an always-blocked category no source in the settings covers
    (and no list in force blocks), else None: then an empty category is a real gap."""
    if category not in ALWAYS_BLOCKED or settings.lists.get(category):
        return None
    status = read_status(settings)
    counts = status.get("categories") if isinstance(status, dict) else None
    in_force = counts.get(category) if isinstance(counts, dict) else None
    return None if isinstance(in_force, int) and in_force > 0 else NO_ILLEGAL_LIST


def uncovered(settings: BlocklistSettings, category: str) -> str:
    """What is true of a category none of the configured lists has a name for, in words.

    The names come from the lists the settings name, but filterd answers from the index the
    last update built: after a source is removed from the settings (the illegal-content one,
    say) that index still blocks its names until the next update. Saying "nothing is blocked"
    then would be false, and hide that the next update will stop blocking them.
    """
    status = read_status(settings)
    counts = status.get("categories") if isinstance(status, dict) else None
    in_force = counts.get(category) if isinstance(counts, dict) else None
    if isinstance(in_force, int) and in_force > 0:
        detail = (
            "no list in the settings has any name for it now; the lists in force still block"
            f" {in_force:,} names from a list that was removed, until the next update"
        )
    else:
        detail = "no list has any name in it, so nothing is blocked for it"
    if category in ALWAYS_BLOCKED:
        detail += " (add your licensed illegal-content list as a source)"
    return detail
