"""Watching the rules file: has it changed, read it whole, and keep the last good copy.

`version` is the sha256 of the bytes read (the dashboard's version of the same file), so the
dashboard can tell whether what it saved is what filterd applies. A copy of the last good file
is kept beside the database, so even a restart with a broken file keeps the last good rules.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import NamedTuple

from filterd.catalogue.model import Catalogue
from filterd.rules.model import Rules
from filterd.rules.parse import RulesError, parse_rules, parse_rules_bytes, read_rules_file

log = logging.getLogger(__name__)

NOT_READ = "not read yet"


class Reading(NamedTuple):
    """One read of the rules file: rules and their text, or the problems; never both."""

    rules: Rules | None
    text: str
    problems: list[str]
    version: str


class RulesFileWatch:
    """The rules file on disk and the last good copy of it."""

    def __init__(self, path: Path | None, good_copy: Path) -> None:
        self.path = path
        self.good_copy = good_copy
        self._signature: tuple[int, int, int] | str | None = NOT_READ

    def forget(self) -> None:
        """Read the file again at the next look, changed or not."""
        self._signature = NOT_READ

    def changed(self) -> bool:
        """True once for every change of the file (a new mtime, size or inode, or it went)."""
        if self.path is None:
            return False
        try:
            info = os.stat(self.path)
            signature: tuple[int, int, int] | None = (
                info.st_mtime_ns,
                info.st_size,
                info.st_ino,
            )
        except OSError:
            signature = None
        if signature == self._signature:
            return False  # unchanged (or still missing): nothing new to say
        self._signature = signature
        return True

    def read(self, catalogue: Catalogue | None) -> Reading:
        """The file, parsed against the app catalogue in force; never raises."""
        version = ""
        try:
            data = read_rules_file(self.path)  # type: ignore[arg-type]
            version = hashlib.sha256(data).hexdigest()
            # The size cap and the parser the dashboard uses, with the catalogue in force.
            rules = parse_rules_bytes(data, catalogue)
            return Reading(rules, data.decode("utf-8"), [], version)
        except OSError as err:
            return Reading(None, "", [f"(file): cannot read: {err}"], version)
        except RulesError as err:
            return Reading(None, "", err.problems, version)
        except Exception as err:  # a parser bug must not cost the rules in force
            log.exception("rules: unexpected error reading %s", self.path)
            return Reading(None, "", [f"(file): could not be read as rules: {err!r}"], version)

    def good_rules(self, catalogue: Catalogue | None) -> Rules | None:
        """The last good rules kept beside the database (written whole by us, fsynced)."""
        try:
            return parse_rules(self.good_copy.read_text(encoding="utf-8"), catalogue)
        except (OSError, UnicodeDecodeError, RulesError):
            return None

    def keep_good(self, text: str) -> None:
        """Replace the good copy with this text, whole on disk first. The temporary file has a
        random name (mkstemp, O_EXCL), so a link planted beside the copy is never followed."""
        temporary = None
        try:
            self.good_copy.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(
                dir=self.good_copy.parent, prefix=f".{self.good_copy.name}."
            )
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())  # whole on disk before it replaces the old copy
            os.replace(temporary, self.good_copy)
        except OSError as err:
            log.warning("rules: cannot keep a copy of the good rules: %s", err)
            if temporary is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
