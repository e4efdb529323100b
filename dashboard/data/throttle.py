"""Slowing password guessing without letting anyone lock a carer out.

Every try (a password, a set-up code, a two-factor code) is reserved in dashboard.db before it
is checked and counts as a failure until it succeeds, inside one write transaction: 40 tries
racing in parallel therefore check at most the limit, never more.

- Per source address: PER_SOURCE failures in WINDOW, then that address waits. An IPv6 source
  counts by its /64 (one device or home network holds a whole /64 and may use any address in
  it, so counting each address would let it guess without end).
- Overall: OVERALL failures in WINDOW from devices not known for the account, then only known
  devices may try. A device becomes known for an account when someone logs in on it (a
  long-lived random cookie whose hash is kept here); from it, only its own failures count
  (PER_DEVICE). So a child who guesses at a carer's name, from one address or from many, slows
  the guessing down but never stops the carer logging in on their own phone.
"""

from __future__ import annotations

import enum
import hashlib
import ipaddress
import secrets
import sqlite3
import time
from typing import NamedTuple

WINDOW = 15 * 60
PER_SOURCE = 5
PER_DEVICE = 5
OVERALL = 30
DEVICE_LIFETIME = 365 * 86400


class Refusal(enum.Enum):
    SOURCE = "source"
    OVERALL = "overall"


class Reservation(NamedTuple):
    id: int


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def known_device(db: sqlite3.Connection, token: str, user_id: int | None, now: float) -> str:
    """The device's id when `token` is a known-device cookie for this account, else ''."""
    if not token or user_id is None:
        return ""
    row = db.execute(
        "SELECT token_hash FROM known_devices WHERE token_hash = ? AND user_id = ? AND created > ?",
        (_hash(token), user_id, now - DEVICE_LIFETIME),
    ).fetchone()
    return row[0] if row else ""


def remember_device(db: sqlite3.Connection, user_id: int, token: str | None) -> str:
    """Mark this browser as known for the account; returns the cookie value to (re)send."""
    token = token or secrets.token_urlsafe(32)
    now = time.time()
    db.execute("DELETE FROM known_devices WHERE created < ?", (now - DEVICE_LIFETIME,))
    db.execute(
        "INSERT OR IGNORE INTO known_devices (token_hash, user_id, created) VALUES (?, ?, ?)",
        (_hash(token), user_id, now),
    )
    db.commit()
    return token


def source_of(remote: str) -> str:
    """What the per-source limit counts: an IPv4 address, or an IPv6 address's /64."""
    try:
        address = ipaddress.ip_address(remote.split("%", 1)[0])
    except ValueError:
        return remote
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def reserve(
    db: sqlite3.Connection, kind: str, name: str, remote: str, device: str, now: float
) -> Reservation | Refusal:
    """Count this try before checking it; refused when a limit is reached."""
    since = now - WINDOW
    remote = source_of(remote)
    db.execute("BEGIN IMMEDIATE")
    try:
        if device:
            (count,) = db.execute(
                "SELECT count(*) FROM login_attempts WHERE device = ? AND ts > ?", (device, since)
            ).fetchone()
            if count >= PER_DEVICE:
                return Refusal.SOURCE
        else:
            by_source, overall = db.execute(
                "SELECT coalesce(sum(remote = ?), 0), count(*) FROM login_attempts"
                " WHERE device = '' AND ts > ?",
                (remote, since),
            ).fetchone()
            if by_source >= PER_SOURCE:
                return Refusal.SOURCE
            if overall >= OVERALL:
                return Refusal.OVERALL
        cursor = db.execute(
            "INSERT INTO login_attempts (ts, kind, name, remote, device) VALUES (?, ?, ?, ?, ?)",
            (now, kind, name, remote, device),
        )
        db.execute("DELETE FROM login_attempts WHERE ts < ?", (now - 2 * WINDOW,))
        db.commit()
        return Reservation(int(cursor.lastrowid or 0))
    finally:
        if db.in_transaction:
            db.rollback()


def release(db: sqlite3.Connection, reservation: Reservation) -> None:
    """A right answer (or a try never checked) is not a failure: its reservation goes."""
    db.execute("DELETE FROM login_attempts WHERE id = ?", (reservation.id,))
    db.commit()
