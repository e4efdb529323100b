"""The app catalogue inside the running daemon: loaded at start, swapped when its file changes.

Like the blocklist index, the file is looked at every couple of seconds; a changed file is
checked whole and swapped in between two queries, without a restart. A file that fails the
check is refused with every problem by key path (logged, counted) and the catalogue in force
stays; with no good file at all the daemon runs with an empty catalogue (lists and categories
still apply), never a half-read one.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from filterd.catalogue.load import CATALOGUE_FILE, CatalogueError, catalogue_at, load_catalogue
from filterd.catalogue.model import EMPTY, Catalogue

log = logging.getLogger(__name__)

CATALOGUE_NAME = "services.yaml"  # in the shipped lists folder, beside the category lists


def catalogue_path(shipped: Path) -> Path:
    """The catalogue beside the shipped lists, or filterd's own when that folder has none."""
    beside = shipped / CATALOGUE_NAME
    return beside if beside.exists() else CATALOGUE_FILE


def catalogue_beside(shipped: Path) -> Catalogue:
    """For processes other than filterd (the dashboard, the block page, the notifier): the
    catalogue filterd uses, read again when it changes; the last good one if a new file is
    refused, empty if none was ever good."""
    try:
        return catalogue_at(catalogue_path(shipped))
    except CatalogueError:
        return EMPTY


class CatalogueService:
    """Owns the catalogue in force; `current` is read by the policy stage for every query."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.current: Catalogue = EMPTY
        self.problems: list[str] = []
        self.swaps = 0
        self.failures = 0
        self.swapped: Callable[[Catalogue], None] = lambda catalogue: None  # set by the daemon
        # Problems that keep a well-formed catalogue out (set by the daemon: apps the rules in
        # force choose that it lacks), so a new file never unblocks a child's blocked app.
        self.unusable: Callable[[Catalogue], list[str]] = lambda catalogue: []
        self._identity: tuple[int, int, int] | None = None

    def refresh(self) -> bool:
        """Load the file if it changed; True when a new catalogue was swapped in."""
        try:
            info = os.stat(self.path)
        except OSError:
            return False  # missing: whatever is in force stays (said once at load)
        identity = (info.st_ino, info.st_mtime_ns, info.st_size)
        if identity == self._identity:
            return False
        self._identity = identity
        try:
            fresh = load_catalogue(self.path)
        except CatalogueError as err:
            return self._refuse(err.problems)
        problems = self.unusable(fresh)
        if problems:
            return self._refuse(problems)
        self.current = fresh
        self.problems = []
        self.swaps += 1
        log.info("app catalogue loaded: %d services from %s", len(fresh.services), self.path)
        self.swapped(fresh)
        return True

    def _refuse(self, problems: list[str]) -> bool:
        self.failures += 1
        self.problems = problems
        log.error(
            "app catalogue %s refused, the catalogue in force stays:\n  %s",
            self.path,
            "\n  ".join(problems),
        )
        return False

    def load(self) -> None:
        if not self.refresh() and not self.current.services:
            log.warning("no app catalogue in force (%s): apps cannot be chosen by name", self.path)
