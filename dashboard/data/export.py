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

from dashboard.data.blocked_log import OUTCOMES, Entry, Review
from dashboard.data.home import HOME_TZ

COLUMNS = (
    "time",
    "child",
    "device",
    "name",
    "categories",
    "reason",
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
    entries: Iterable[Entry], reviews: dict[int, Review], tz: ZoneInfo = HOME_TZ
) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for entry in entries:
        review = reviews.get(entry.id)
        row = (
            datetime.fromtimestamp(entry.ts, tz).isoformat(timespec="seconds"),
            entry.child,
            entry.client,
            entry.name,
            ",".join(entry.categories),
            entry.reason,
            OUTCOMES.get(review.outcome, review.outcome) if review else "",
            review.note if review else "",
            review.reviewer if review else "",
        )
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()
