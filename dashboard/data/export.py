"""CSV export of blocked requests for the home's recording system, safe to open in a spreadsheet.

Query names come from the children's devices, so a name can be written to attack whoever opens
the file: a cell starting with =, +, -, @, tab or carriage return is prefixed with a single
quote so spreadsheets show it as text instead of running it (OWASP, "CSV Injection"), and so is
one starting with a control character (a NUL) or spaces before such a sign.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from dashboard.data.blocked_log import OUTCOMES, DeviceLabel, Entry, Review, reason_label
from dashboard.data.home_timezone import HOME_TZ
from filterd.lists.categories import label_of

COLUMNS = (
    "time",
    "child",
    "device",
    "device MAC",
    "device address",
    "site",
    "app",
    "categories",
    "why blocked",
    "high risk",
    "reviewed outcome",
    "note",
    "reviewer",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_CONTROLS = "".join(map(chr, range(32))) + "\x7f"


def safe_cell(value: object) -> str:
    """The value as a cell a spreadsheet shows as text. Spreadsheets skip leading spaces and
    control characters (a NUL included) before deciding a cell is a formula, so those are
    looked past too; any leading control character also gets the quote."""
    text = "" if value is None else str(value)
    first = text.lstrip(" " + _CONTROLS)[:1]
    if (first and first in FORMULA_STARTS) or (text and text[0] in _CONTROLS):
        return "'" + text
    return text


def blocked_csv(
    entries: Iterable[Entry],
    reviews: dict[int, Review],
    tz: ZoneInfo = HOME_TZ,
    devices: dict[str, DeviceLabel] | None = None,
    children: dict[str, str] | None = None,
    apps: dict[str, str] | None = None,
) -> str:
    """One row per blocked request, in words: the child's and the device's names (with the
    device's MAC), category names and why it was blocked, never an internal value."""
    devices, children, apps = devices or {}, children or {}, apps or {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for entry in entries:
        review = reviews.get(entry.id)
        device = devices.get(entry.client) or DeviceLabel(f"unknown device ({entry.client})", "")
        row = (
            datetime.fromtimestamp(entry.ts, tz).isoformat(timespec="seconds"),
            children.get(entry.child, entry.child) if entry.child else "no child",
            device.name,
            device.mac,
            entry.client,
            entry.name,
            apps.get(entry.service, entry.service.replace("_", " ")) if entry.service else "",
            ", ".join(label_of(c) for c in entry.categories),
            reason_label(entry),
            "yes" if entry.high_risk else "no",
            OUTCOMES.get(review.outcome, review.outcome) if review else "",
            review.note if review else "",
            review.reviewer if review else "",
        )
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()
