"""Each device's record: who bought it, who holds its account or contract, when it
was handed to the carer, whether it was reset before the child had it, and its set-up checklist
with who ticked each item and when.

The guidance for children in care asks that a new device goes to the carer first, to be reset
and set up, and that who is responsible for it is written down. Kept in dashboard.db by the
device's hardware address (the rules file says whose it is). No Flask here; every tick and
untick is also written to the audit trail by dashboard.actions.device_record.
"""

from __future__ import annotations

import re
import sqlite3
import time
from datetime import date
from typing import NamedTuple

from filterd.text.people import name_problem, text_problem

# The set-up checklist: key (stored) -> what the carer checks, in plain words.
CHECKLIST: dict[str, str] = {
    "location_off": "Location sharing off (in the device's settings and in each app that asks).",
    "friends_only": "Accounts set to friends-only: who can message, see posts and add them.",
    "parental_controls": (
        "The device's own parental controls on (Screen Time, Family Link, the console's family"
        " settings)."
    ),
    "private_address_off": (
        "Private (random) Wi-Fi address off for this network, so filterd keeps knowing the device."
    ),
    "bookmarked": (
        "On a child's device, a bookmark to http://filterd.home.arpa/me: their own page says what"
        " applies to them and lets them ask for a blocked site."
    ),
}
# Short names of the items for the audit trail and the practitioner's view.
CHECK_NAMES: dict[str, str] = {
    "location_off": "location sharing off",
    "friends_only": "friends-only",
    "parental_controls": "parental controls on",
    "private_address_off": "private Wi-Fi address off",
    "bookmarked": "child's page bookmarked",
}
RESET_CHOICES: dict[str, str] = {
    "yes": "Yes, it was reset before the child had it",
    "no": "No, it was not reset",
    "not_sure": "Not sure",
}
MAX_TEXT = 80  # characters of a name or organisation ("Sam's mum", "the local authority")
EARLIEST = date(2000, 1, 1)
MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


class Check(NamedTuple):
    item: str
    done: bool
    by: str
    ts: float


class DeviceRecord(NamedTuple):
    mac: str
    bought_by: str
    account_holder: str
    handed_over: str  # YYYY-MM-DD, '' not given
    reset: str  # RESET_CHOICES' keys, '' not answered
    updated: float | None
    updated_by: str
    checks: dict[str, Check]

    @property
    def filled_in(self) -> bool:
        """Every question answered (the checklist is shown as how many items are done)."""
        return bool(self.bought_by and self.account_holder and self.handed_over and self.reset)

    @property
    def handed_over_words(self) -> str:
        """The day it was handed to the carer, as a person writes it ('' when not given)."""
        try:
            day = date.fromisoformat(self.handed_over)
        except ValueError:
            return ""
        return f"{day.day} {day:%B %Y}"

    @property
    def checks_done(self) -> int:
        return sum(1 for check in self.checks.values() if check.done)


class RecordInput(NamedTuple):
    """What a person typed, before it is checked."""

    bought_by: str
    account_holder: str
    handed_over: str
    reset: str
    ticked: frozenset[str]


def normal_mac(mac: str) -> str | None:
    """The address as stored (lower case, colons), or None when it is not one."""
    mac = mac.strip().lower().replace("-", ":")
    return mac if MAC.match(mac) else None


def empty(mac: str) -> DeviceRecord:
    return DeviceRecord(mac, "", "", "", "", None, "", {})


def read(db: sqlite3.Connection, mac: str) -> DeviceRecord:
    """The device's record; an empty one when nobody has filled it in."""
    checks = {
        row[0]: Check(row[0], bool(row[1]), row[2], row[3])
        for row in db.execute("SELECT item, done, by, ts FROM device_checks WHERE mac = ?", (mac,))
        if row[0] in CHECKLIST
    }
    row = db.execute(
        "SELECT bought_by, account_holder, handed_over, reset, updated, updated_by"
        " FROM device_records WHERE mac = ?",
        (mac,),
    ).fetchone()
    if row is None:
        return empty(mac)._replace(checks=checks)
    return DeviceRecord(mac, *row, checks)


def read_many(db: sqlite3.Connection, macs: list[str]) -> dict[str, DeviceRecord]:
    return {mac: read(db, mac) for mac in macs}


def problems(typed: RecordInput, today: date) -> dict[str, str]:
    """Field -> a plain sentence saying what is wrong with it (empty when all is well)."""
    found: dict[str, str] = {}
    for field, what in (("bought_by", "who bought it"), ("account_holder", "who holds it")):
        value = getattr(typed, field).strip()
        if not value:
            found[field] = f"Say {what}: a name or an organisation, such as the local authority."
        elif text_problem(value, MAX_TEXT) is not None:
            found[field] = f"Keep this to {MAX_TEXT} letters, numbers and punctuation."
        elif (problem := name_problem(value, MAX_TEXT)) is not None:
            found[field] = f"{problem[:1].upper()}{problem[1:]}."
    if not typed.handed_over.strip():
        found["handed_over"] = "Give the date the device was handed to the carer."
    else:
        try:
            handed = date.fromisoformat(typed.handed_over.strip())
        except ValueError:
            found["handed_over"] = "Give the date as day, month and year (for example 2026-11-27)."
        else:
            if handed > today:
                found["handed_over"] = "That date has not come yet: give the day it came."
            elif handed < EARLIEST:
                found["handed_over"] = "That date is too long ago: check the year."
    if typed.reset not in RESET_CHOICES:
        found["reset"] = "Say whether the device was reset before the child had it."
    if not typed.ticked <= set(CHECKLIST):
        found["checklist"] = "Tick only the items in the list."
    return found


def save(db: sqlite3.Connection, mac: str, typed: RecordInput, by: str) -> list[tuple[str, bool]]:
    """Store a checked record; returns the checklist items whose state changed, (item, done),
    so each tick and untick is recorded with its author."""
    now = time.time()
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute(
            "INSERT INTO device_records (mac, bought_by, account_holder, handed_over, reset,"
            " updated, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(mac) DO UPDATE SET bought_by = excluded.bought_by,"
            " account_holder = excluded.account_holder, handed_over = excluded.handed_over,"
            " reset = excluded.reset, updated = excluded.updated,"
            " updated_by = excluded.updated_by",
            (mac, typed.bought_by.strip(), typed.account_holder.strip(),
             typed.handed_over.strip(), typed.reset, now, by),
        )  # fmt: skip
        before = {
            row[0]: bool(row[1])
            for row in db.execute("SELECT item, done FROM device_checks WHERE mac = ?", (mac,))
        }
        changed = []
        for item in CHECKLIST:
            done = item in typed.ticked
            if before.get(item, False) != done:
                changed.append((item, done))
                db.execute(
                    "INSERT INTO device_checks (mac, item, done, by, ts) VALUES (?, ?, ?, ?, ?)"
                    " ON CONFLICT(mac, item) DO UPDATE SET done = excluded.done,"
                    " by = excluded.by, ts = excluded.ts",
                    (mac, item, int(done), by, now),
                )
        db.commit()
    finally:
        if db.in_transaction:
            db.rollback()
    return changed
