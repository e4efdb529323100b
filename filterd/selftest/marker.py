"""How filterd knows a question is its own household self-test, so it is never logged.

The household self-test (filterd.selftest.run) asks filterd real questions over UDP from this
box, among them sample names of the illegal tier: logged, each run would put "This box" in the
blocked log and email the safeguarding lead about illegal content. So each question carries a
secret that filterd makes afresh at every start and keeps in a file only filterd's own user
can read (next to filterd.db), in a private-use EDNS option. A question is the self-test's
only when it carries that secret *and* comes from the box's loopback address: a child's
device cannot send from loopback (and could not read the secret), so no device can use the
marker for lookups nobody sees.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from pathlib import Path

from dnslib import EDNSOption

from filterd.dns.query import Query

log = logging.getLogger(__name__)

OPTION_CODE = 65001  # the first EDNS option code for local use (RFC 6891 section 9)
SECRET_BYTES = 16
LOOPBACK = frozenset(("127.0.0.1", "::1"))  # the addresses the self-test asks from
MAX_PENDING = 1024  # marked questions not yet answered (a dropped one is forgotten here)


def secret_path(database: Path) -> Path:
    """The secret's file, beside filterd.db (the state directory only filterd writes)."""
    return database.with_name("selftest.secret")


def read_secret(database: Path) -> bytes | None:
    """The running filterd's secret, or None (not running yet, or not readable by this user:
    the self-test then asks unmarked, and its questions are logged as the box's own)."""
    try:
        secret = secret_path(database).read_bytes()
    except OSError:
        return None
    return secret if len(secret) == SECRET_BYTES else None


def option(secret: bytes) -> EDNSOption:
    """The EDNS option the self-test adds to each of its questions."""
    return EDNSOption(OPTION_CODE, secret)


class OwnProbe:
    """Made once per start: writes the secret, and tells the log which questions to skip."""

    def __init__(self, database: Path | None = None) -> None:
        self.secret = secrets.token_bytes(SECRET_BYTES)
        self.pending: set[Query] = set()
        if database is not None:
            try:
                self._write(secret_path(database))
            except OSError as err:  # the state directory is unusable: DNS goes on regardless
                log.warning(
                    "the self-test's secret could not be written (%s): its questions will be"
                    " logged as the box's own",
                    err,
                )

    def _write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".new")
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(self.secret)
        os.replace(temporary, path)

    def is_marked(self, data: bytes, client: str) -> bool:
        """The packet is the self-test's: from loopback and carrying this start's secret."""
        return client in LOOPBACK and self.secret in data

    def mark(self, query: Query) -> None:
        if len(self.pending) >= MAX_PENDING:
            self.pending.clear()
        self.pending.add(query)

    def take(self, query: Query) -> bool:
        """True (once) for a question `mark` was given: its answer is not logged."""
        if query in self.pending:
            self.pending.discard(query)
            return True
        return False
