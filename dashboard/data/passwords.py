"""Password hashing with a bounded cost, and the rules a new password must meet.

Hashing is argon2id with 19 MiB, 2 passes, 1 lane (OWASP's minimum profile for argon2id) and
at most HASH_SLOTS hashes at once in this process: a flood of logins then costs at most
HASH_SLOTS x 19 MiB and one core, so the dashboard cannot starve filterd (DNS) of memory or
CPU on a small box. Someone who waits longer than HASH_WAIT for a slot is told to try again.
Unknown account names are checked against a dummy hash made with the same parameters, so a
wrong name costs exactly what a wrong password costs (no account enumeration by timing).

New passwords are refused when they are in the list shipped in common_passwords.txt (no
network lookup: the box may be offline and a password must never leave it), or are an obvious
pattern: few different characters, one short piece repeated, a run of neighbouring keys or
letters, or the account's own name.
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 10
MAX_LENGTH = 256  # argon2 hashes any length; this bounds what one request can make us hash
HASH_SLOTS = 1  # argon2 computations at once in the dashboard process
HASH_WAIT = 10.0  # seconds a login waits for a slot before being told to try again

HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_slots = threading.BoundedSemaphore(HASH_SLOTS)
_hashing_thread = ThreadPoolExecutor(HASH_SLOTS, thread_name_prefix="argon2")
T = TypeVar("T")


class Busy(Exception):
    """Every hashing slot stayed taken for HASH_WAIT seconds (a login flood)."""


@contextlib.contextmanager
def _slot_held() -> Iterator[None]:
    if not _slots.acquire(timeout=HASH_WAIT):
        raise Busy
    try:
        yield
    finally:
        _slots.release()


def _in_hashing_thread(work: Callable[[], T]) -> T:
    """Run argon2 in the one hashing thread: its 19 MiB come from one malloc arena, which
    glibc then reuses, instead of every server thread keeping an arena of its own that size."""
    with _slot_held():
        return _hashing_thread.submit(work).result()


def hash_password(password: str) -> str:
    return _in_hashing_thread(lambda: HASHER.hash(password))


def verify(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches; None (no such account) costs the same as a wrong one."""

    def check() -> bool:
        try:
            return HASHER.verify(stored_hash or _dummy_hash(), password) and bool(stored_hash)
        except (VerificationError, InvalidHashError):
            return False

    return _in_hashing_thread(check)


def needs_rehash(stored_hash: str) -> bool:
    """A hash made with other parameters (older, costlier) is replaced at the next login."""
    try:
        return HASHER.check_needs_rehash(stored_hash)
    except (InvalidHashError, ValueError):
        return True


@functools.cache
def _dummy_hash() -> str:
    return HASHER.hash("no account has this password: it only costs what a real check costs")


@functools.cache
def common_passwords() -> frozenset[str]:
    text = resources.files("dashboard.data").joinpath("common_passwords.txt").read_text()
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


LOOK_ALIKES = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "@": "a", "5": "s",
                             "$": "s", "7": "t", "!": "i", "|": "l", "+": "t"})  # fmt: skip
KEY_RUNS = (
    "abcdefghijklmnopqrstuvwxyz",
    "01234567890",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "qwertzuiop",
    "azertyuiop",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    "1q2w3e4r5t6y7u8i9o0p",
    "q1w2e3r4t5y6u7i8o9p0",
    "qazwsxedcrfvtgbyhnujmikolp",
    # Down one column and up the next (zaq12wsx, 1qazxsw2): among the most used keyboard walks.
    "zaq12wsxcde34rfvbgt56yhnmju78ik,.lo90p;/",
    "1qazxsw23edcvfr45tgbnhy67ujm,ki89ol./;p0",
)
_ENDS = re.compile(r"^[\W\d_]+|[\W\d_]+$")


def _stem(password: str) -> str:
    """Digits and symbols off both ends, look-alike characters read as letters."""
    return _ENDS.sub("", password.lower()).translate(LOOK_ALIKES)


def _is_common(password: str) -> bool:
    common = common_passwords()
    lowered = password.lower()
    letters = re.sub(r"[\W\d_]+", "", lowered.translate(LOOK_ALIKES))
    for candidate in {lowered, _stem(password), letters}:
        if candidate in common:
            return True
        if any(
            candidate[:cut] in common and candidate[cut:] in common
            for cut in range(1, len(candidate))
        ):
            return True
    return False


def _repeats(text: str) -> bool:
    """One short piece said again and again: aaaaaaaaaa, abcabcabca, 1212121212."""
    return any(
        (text[:size] * (len(text) // size + 1))[: len(text)] == text
        for size in range(1, len(text) // 2 + 1)
    )


def _key_run(text: str) -> bool:
    """Along a keyboard row or the alphabet, forwards or backwards."""
    if len(text) < 4:
        return False
    return any(text in run or text in run[::-1] for run in KEY_RUNS)


def weakness(password: str, account_name: str = "") -> str | None:
    """Why `password` is refused, in plain words for the person choosing it, or None."""
    if len(password) < MIN_LENGTH:
        return f"A password needs at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"A password can have at most {MAX_LENGTH} characters."
    lowered = password.lower()
    if len(set(lowered)) < 4 or _repeats(lowered):
        return "This password repeats the same few characters: choose something less regular."
    if _key_run(lowered) or _key_run(_ENDS.sub("", lowered)):
        return "This password is a run of neighbouring keys or letters, which is guessed first."
    name = account_name.strip().lower()
    if len(name) >= 3 and (name in lowered or name[::-1] in lowered):
        return "This password contains the account's name: choose one that does not."
    if _is_common(password):
        return (
            "This password is one of the most common ones, which are guessed first."
            " Try three or four words you will remember, with spaces between them."
        )
    return None
