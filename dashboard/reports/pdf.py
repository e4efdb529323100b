"""The page style every PDF of the dashboard shares (the monthly evidence report, a child's
agreement): fpdf2 with DejaVu Sans, so a name such as Łukasz, Zoë or Ngozi Ọkafọ prints as
written. The font comes from Debian's fonts-dejavu-core (installed by `make system-deps` and
the installer); without it, the PDF core font holds Latin-1 only and anything else shows '?'.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from fontTools.ttLib import TTFont
from fpdf import FPDF

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = {"": FONT_DIR / "DejaVuSans.ttf", "B": FONT_DIR / "DejaVuSans-Bold.ttf"}
FAMILY = "DejaVu"
FALLBACK = "Helvetica"  # a PDF core font: Latin-1 only
PLACEHOLDER = "\u25a1"  # □, in DejaVu Sans: where a character the font lacks would have gone
UNPRINTABLE_NOTE = (
    "Some characters could not be printed (shown as \u25a1); see the agreement on the dashboard."
)


@cache
def _printable(path: Path) -> frozenset[int]:
    """The code points the font has a glyph for (fpdf2 silently drops any other)."""
    font = TTFont(str(path), lazy=True)
    try:
        return frozenset(font.getBestCmap() or {})
    finally:
        font.close()


def unprintable(texts: Iterable[Any]) -> set[str]:
    """The characters of `texts` the PDF's font cannot print (the core font: beyond Latin-1)."""
    if all(path.is_file() for path in FONTS.values()):
        has = _printable(FONTS[""]) & _printable(FONTS["B"])
        return {c for text in texts for c in str(text) if ord(c) not in has and not c.isspace()}
    return {c for text in texts for c in str(text) if ord(c) > 0xFF}


class Report(FPDF):
    """A page with headings and wrapped lines in a font that holds every name."""

    def __init__(self) -> None:
        super().__init__()
        self.unicode = all(path.is_file() for path in FONTS.values())
        if self.unicode:
            for style, path in FONTS.items():
                self.add_font(FAMILY, style, str(path))
        self.family_name = FAMILY if self.unicode else FALLBACK
        self.unprinted: set[str] = set()

    def text_of(self, text: Any) -> str:
        """What the font can print, each character it lacks shown as a visible placeholder
        (never silently left out: a child's own words must not lose a letter unseen)."""
        text = str(text)
        missing = unprintable([text])
        if missing:
            self.unprinted |= missing
            shown = PLACEHOLDER if self.unicode else "?"
            text = "".join(shown if c in missing else c for c in text)
        return text

    def bold(self, on: bool = True, size: int = 11) -> None:
        self.set_font(self.family_name, "B" if on else "", size)

    def heading(self, text: str, size: int = 14) -> None:
        self.bold(True, size)
        self.multi_cell(0, 8, self.text_of(text), new_x="LMARGIN", new_y="NEXT")
        self.bold(False)

    def line(self, text: str) -> None:  # type: ignore[override]
        self.multi_cell(0, 6, self.text_of(text), new_x="LMARGIN", new_y="NEXT")
