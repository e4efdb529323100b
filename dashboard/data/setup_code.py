"""The one-time set-up code that guards creating the first administrator.

While no account exists, whoever reaches the dashboard could otherwise make themselves
administrator (a teenager on the Wi-Fi with curl). The code is made on the dashboard's first
start, kept in a file only the service's user can read (next to dashboard.db), shown by
`filterd setup-code --config FILE` and printed by `make run` and the installer, and deleted once
the first administrator exists.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
from pathlib import Path

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read aloud and typed on a phone
GROUPS, GROUP = 3, 4  # 12 characters, 60 bits


def code_path(database: Path) -> Path:
    return database.parent / "setup-code"


def _new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP))
    return "-".join(raw[i : i + GROUP] for i in range(0, len(raw), GROUP))


def ensure(database: Path) -> str:
    """The code, made now when there is none (atomic: two starting processes share one)."""
    path = code_path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return read(database)
    except FileNotFoundError:
        pass
    temporary = path.with_name(f".setup-code.{secrets.token_hex(8)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(descriptor, "w") as out:
            out.write(_new_code() + "\n")
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):  # another process made the code first
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return read(database)


def read(database: Path) -> str:
    descriptor = os.open(code_path(database), os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(descriptor) as found:
        return found.read().strip()


def normalise(typed: str) -> str:
    """What a person typed, without spaces or dashes, in capitals (codes are read aloud)."""
    return "".join(c for c in typed.upper() if c.isalnum())


def matches(database: Path, typed: str) -> bool:
    try:
        expected = normalise(read(database))
    except FileNotFoundError:
        return False
    return bool(expected) and hmac.compare_digest(normalise(typed).encode(), expected.encode())


def discard(database: Path) -> None:
    """After the first administrator exists the code opens nothing and is removed."""
    code_path(database).unlink(missing_ok=True)
