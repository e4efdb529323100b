"""Reading what a dashboard page says to a person, for tests that hold its HTML."""

from __future__ import annotations

import html
import re


def field_error(page: str, field: str) -> str:
    """The plain-words message shown next to a form field ("" when there is none)."""
    match = re.search(rf'<p class="field-error" id="{field}-error"[^>]*>([^<]*)</p>', page)
    return html.unescape(match[1]) if match else ""
