"""The rules file as the dashboard edits it: read with a version, validate, write atomically.

Every save is checked with filterd's own check of the bytes it would read (the same parser and
the same size cap, `parse_rules_bytes`), so a save filterd would refuse is impossible, and is
based on the version the person was looking at: if the file changed since (another carer, a
hand edit), the save is refused with StaleEdit instead of overwriting that change. What each
role may change is checked on every save (dashboard.data.rule_permissions). Comments written
by hand are not kept when the dashboard saves.

The file is the one filterd reads (the config's `rules`); with none configured nothing can be
edited, since filterd would never see the change. Saves write a new file with a random name
(mkstemp: O_EXCL, so nothing planted at a known path is followed) and rename it over the old
one; two saves at once are serialised by a lock on the directory itself, so there is no lock
file to plant a link at.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import hashlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple, Protocol
from zoneinfo import ZoneInfo

import yaml

from dashboard.data.accounts import Permission
from dashboard.data.rule_permissions import MAX_CHANGES, FieldsRefused, changed_paths, refused
from filterd.rules.changes import Risk, describe
from filterd.rules.guards import CUT_SHORT, END_KEY, NONE_WORD, with_end_line
from filterd.rules.model import Rules
from filterd.rules.parse import RulesError, override_expired, parse_rules, parse_rules_bytes
from filterd.rules.yaml_loader import load_plain


class StaleEdit(Exception):
    """The file changed since the version this edit was based on."""


class Editor(Protocol):
    """Who saves (an accounts.User): what their role may change is checked on every save."""

    name: str

    def may(self, permission: Permission) -> bool: ...


class Saved(NamedTuple):
    rules: Rules  # as filterd will apply them
    changes: list[str]  # the key paths this save changed
    described: list[str]  # each changed setting, before -> after, in plain words (audit trail)


MAX_REASON = 500  # characters in a reason for loosening (the page's box says the same)


class ReasonTooLong(Exception):
    """A reason longer than MAX_REASON: refused whole, never cut short without a word."""

    def __init__(self) -> None:
        super().__init__(
            f"The reason can be at most {MAX_REASON} characters. Shorten it, then save again."
        )


class ReasonNeeded(Exception):
    """The save lets a child reach a high-risk category: it needs a reason, which is kept."""

    def __init__(self, loosened: list[str]) -> None:
        super().__init__("; ".join(loosened))
        self.loosened = loosened


# Told before a saved file replaces the old one: (version, who, changes in plain words), so
# filterd can tell the dashboard's saves from edits made by hand.
Announce = Callable[[str, str, list[str]], None]


class Snapshot(NamedTuple):
    raw: dict[str, Any]  # the YAML as data, to edit
    rules: Rules | None  # parsed; None when the file on disk is currently refused
    version: str  # sha256 of the bytes, sent back with every edit
    problems: list[str]  # why filterd refuses the file on disk, if it does


EMPTY = with_end_line("children: {}\ndevices: []\n")
EMPTY_SECTIONS = {"children": {}, "devices": []}
NOT_CONFIGURED = (
    "(file): filterd.yaml names no rules file (the `rules` key), so filterd would never read"
    " a change made here; set `rules` and restart filterd and the dashboard"
)


class NoRulesFile(RulesError):
    """filterd reads no rules file: an edit would have no effect, so none is made."""

    def __init__(self) -> None:
        super().__init__([NOT_CONFIGURED])


def content_hash(data: bytes) -> str:
    """The rules file's version as forms carry it: a hash of its bytes, so a save made on an
    older page is refused instead of overwriting a change made since."""
    return hashlib.sha256(data).hexdigest()


class RulesFile:
    def __init__(
        self,
        path: Path | None,
        announce: Announce | None = None,
        risk: Callable[[], Risk] | None = None,
    ) -> None:
        self.path = path  # None: filterd.yaml names no rules file
        # What the lists in force say about names and apps (dashboard.data.name_risk): a save
        # opening a high-risk site or app by name then asks for a reason too.
        self.risk = risk
        # The last snapshot read, reused while the file's bytes are the same: a big file
        # (up to filterd's cap) is parsed once, not on every page. Callers never change a
        # snapshot's raw rules in place (edited() copies them).
        self._last: Snapshot | None = None
        self.announce = announce

    def read(self) -> Snapshot:
        if self.path is None:
            return Snapshot({}, None, content_hash(b""), [NOT_CONFIGURED])
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            data = EMPTY.encode()
        version = content_hash(data)
        last = self._last
        if last is not None and last.version == version:
            return last
        raw = raw_rules(data.decode("utf-8", errors="replace"))
        try:
            snapshot = Snapshot(raw, parse_rules_bytes(data), version, [])
        except RulesError as err:
            snapshot = Snapshot(raw, None, version, err.problems)
        self._last = snapshot
        return snapshot

    def modified(self) -> float | None:
        """When the file was last written (None: no file)."""
        try:
            return os.stat(self.path).st_mtime if self.path is not None else None
        except OSError:
            return None

    def save(
        self, raw: dict[str, Any], base_version: str, editor: Editor, reason: str | None = None
    ) -> Saved:
        """Validate and write; raises RulesError (with key paths), NoRulesFile, StaleEdit,
        FieldsRefused when the editor's role may not change a part this save changes, or
        ReasonNeeded when it loosens a high-risk category and `reason` is empty (None: the
        caller asks for no reason, as quick actions, which loosen no category)."""
        if self.path is None:
            raise NoRulesFile()
        if reason is not None:  # a line break typed counts once, as the page's box counts it
            reason = reason.replace("\r\n", "\n")
            if len(reason.strip()) > MAX_REASON:
                raise ReasonTooLong()
        data = encoded(raw)
        rules = parse_rules_bytes(data)  # exactly what filterd will check when it reads it
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _directory_lock(self.path.parent):  # two saves at once: the second sees the first
            changes, described = self._write_if_current(data, rules, base_version, editor, reason)
        return Saved(rules, changes, described)

    def _write_if_current(
        self,
        data: bytes,
        rules: Rules,
        base_version: str,
        editor: Editor,
        reason: str | None,
    ) -> tuple[list[str], list[str]]:
        assert self.path is not None
        current = self.read()
        if current.version != base_version:
            raise StaleEdit(
                "The rules were changed by someone else since you opened this page."
                " Your change was not saved: reload to see the new rules, then make it again."
            )
        if CUT_SHORT in current.problems:  # saving on top would make the missing part final
            raise StaleEdit(
                "The rules file on this box is incomplete (it may have been cut short), so"
                " filterd is still using the last complete rules. Your change was not saved."
                " Whoever edits the file by hand needs to finish it first."
            )
        unreadable = [p for p in current.problems if p.startswith("(file):")]
        if unreadable and not current.raw:  # every edit starts from {}: it would wipe the home
            raise StaleEdit(
                f"The rules file on this box cannot be read ({unreadable[0]}), so filterd is"
                " still using the last good rules. Your change was not saved: whoever edited"
                " the file by hand needs to fix it first."
            )
        changes = changed_paths(current.raw, raw_rules(data.decode("utf-8")))
        not_allowed = refused(editor.may, changes)
        if not_allowed:
            raise FieldsRefused(not_allowed)
        described = describe(current.rules, rules, self.risk() if self.risk else None)
        loosened = [str(c) for c in described if c.loosens_high_risk]
        if loosened and reason is not None and not reason.strip():
            raise ReasonNeeded(loosened)
        lines = [str(c) for c in described][:MAX_CHANGES]
        if reason and reason.strip() and loosened:
            lines.append(f"reason: {reason.strip()}")
        if self.announce is not None:
            self.announce(content_hash(data), editor.name, lines)
        # mkstemp: a new file with a random name, O_EXCL and mode 0600, never a planted link.
        fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with contextlib.suppress(FileNotFoundError):  # keep who may read it (0640 stays)
                os.fchmod(fd, stat.S_IMODE(os.stat(self.path).st_mode))
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        return changes[:MAX_CHANGES], lines


def child_names(raw: dict[str, Any]) -> dict[str, str]:
    """{child id: name} from the raw rules, in file order (a child without a name by its id)."""
    children = raw.get("children")
    if not isinstance(children, dict):
        return {}
    return {
        str(cid): str(body.get("name") or cid) if isinstance(body, dict) else str(cid)
        for cid, body in children.items()
    }


def raw_rules(text: str) -> dict[str, Any]:
    """The rules as data to edit ({} when not YAML): the end line and `none` undone."""
    try:
        raw = load_plain(text)
    except yaml.YAMLError:
        raw = None
    raw = raw if isinstance(raw, dict) else {}
    raw.pop(END_KEY, None)  # written back by save, always last
    for key, empty in EMPTY_SECTIONS.items():
        if raw.get(key) == NONE_WORD:
            raw[key] = copy.copy(empty)
    return raw


@contextlib.contextmanager
def _directory_lock(directory: Path) -> Iterator[None]:
    """An exclusive lock held on the directory itself (no lock file, so nothing to plant)."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def encoded(raw: dict[str, Any]) -> bytes:
    """The whole file's bytes; text that cannot be written as UTF-8 (a lone surrogate) is
    refused with its key path by filterd's parser, data nested past reason likewise."""
    try:
        text = file_text(raw)
    except RecursionError:
        raise RulesError(["(file): nested too deeply to be a rules file"]) from None
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        parse_rules(text)  # names the key and the character
        raise RulesError(["(file): the rules hold text that is not valid Unicode"]) from None


def file_text(raw: dict[str, Any]) -> str:
    """The whole file as saved: an emptied section says `none` (the daemon then applies it
    even when it removes every child or device at once, since a carer asked for it here), and
    the end line comes last so a file cut short is refused."""
    data = {k: v for k, v in _plain(raw).items() if k != END_KEY}
    for key in EMPTY_SECTIONS:
        if key in data and not data[key]:
            data[key] = NONE_WORD
    return with_end_line(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def edited(snapshot: Snapshot) -> dict[str, Any]:
    """A deep copy of the raw rules to change."""
    return copy.deepcopy(snapshot.raw)


def add_override(
    raw: dict[str, Any], child: str, override: dict[str, Any], tz: ZoneInfo, now: float
) -> None:
    """Append an override to a child; expired ones are dropped, judged as filterd judges them
    (filterd.rules.parse.override_expired, in the home's time zone `tz`)."""
    body = raw.setdefault("children", {}).get(child)
    if not isinstance(body, dict):
        raise KeyError(child)
    overrides = [o for o in body.get("overrides") or [] if not override_expired(o, tz, now)]
    overrides.append(override)
    body["overrides"] = overrides


def remove_overrides(raw: dict[str, Any], child: str, kind: str) -> None:
    body = raw.setdefault("children", {}).get(child)
    if not isinstance(body, dict):
        raise KeyError(child)
    body["overrides"] = [
        o
        for o in body.get("overrides") or []
        if not (isinstance(o, dict) and o.get("kind") == kind)
    ]


def home_time(moment: datetime) -> str:
    """An instant as the rules file writes it: "YYYY-MM-DD HH:MM" in home time."""
    return moment.strftime("%Y-%m-%d %H:%M")


def _plain(value: Any) -> Any:
    """Data safe_dump can write (tuples and sets to lists)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value
