"""Optional two-factor login (TOTP, RFC 6238, with pyotp) for administrators and safeguarding
leads: any authenticator app (scanning a QR code or typing the secret) gives a 6-digit code
that changes every 30 s. A code is accepted once (its time step is remembered), one step
either side of now for a phone's clock drift; wrong codes are throttled like passwords."""

from __future__ import annotations

import sqlite3
import time

import pyotp
import segno

ISSUER = "filterd"


def start_enrolment(db: sqlite3.Connection, user_id: int) -> str:
    """A secret kept as pending until the person proves their app has it (the same one when
    the page is opened again, so a code already scanned keeps working)."""
    secret = pending_secret(db, user_id) or pyotp.random_base32()
    db.execute("UPDATE users SET totp_pending = ? WHERE id = ?", (secret, user_id))
    db.commit()
    return secret


def pending_secret(db: sqlite3.Connection, user_id: int) -> str:
    row = db.execute("SELECT totp_pending FROM users WHERE id = ?", (user_id,)).fetchone()
    return row[0] if row else ""


def enabled(db: sqlite3.Connection, user_id: int) -> bool:
    row = db.execute("SELECT totp_secret FROM users WHERE id = ?", (user_id,)).fetchone()
    return bool(row and row[0])


def provisioning_uri(secret: str, account: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The QR code as inline SVG markup (no image request, allowed by the page's CSP)."""
    return segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff", border=4)


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _matching_step(secret: str, code: str, now: float) -> int | None:
    code = "".join(c for c in code if c.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    step = int(now) // totp.interval
    for candidate in (step, step - 1, step + 1):
        if pyotp.utils.strings_equal(totp.at(candidate * totp.interval), code):
            return candidate
    return None


def confirm_enrolment(db: sqlite3.Connection, user_id: int, code: str) -> bool:
    secret = pending_secret(db, user_id)
    step = _matching_step(secret, code, time.time()) if secret else None
    if step is None:
        return False
    db.execute(
        "UPDATE users SET totp_secret = totp_pending, totp_pending = '', totp_last_step = ?"
        " WHERE id = ?",
        (step, user_id),
    )
    db.commit()
    return True


def check(db: sqlite3.Connection, user_id: int, code: str) -> bool:
    """A right code not used before; remembered so it cannot be replayed."""
    db.execute("BEGIN IMMEDIATE")
    try:
        row = db.execute(
            "SELECT totp_secret, totp_last_step FROM users WHERE id = ?", (user_id,)
        ).fetchone()
        if row is None or not row[0]:
            return False
        step = _matching_step(row[0], code, time.time())
        if step is None or step <= row[1]:
            return False
        db.execute("UPDATE users SET totp_last_step = ? WHERE id = ?", (step, user_id))
        db.commit()
        return True
    finally:
        if db.in_transaction:
            db.rollback()


def turn_off(db: sqlite3.Connection, user_id: int) -> None:
    db.execute(
        "UPDATE users SET totp_secret = '', totp_pending = '', totp_last_step = 0 WHERE id = ?",
        (user_id,),
    )
    db.commit()
