"""The page style every PDF of the dashboard shares (the monthly evidence report, a child's
agreement): fpdf2 with DejaVu Sans, so a name such as Łukasz, Zoë or Ngozi Ọkafọ prints as
written. The font comes from Debian's fonts-dejavu-core (installed by `make system-deps` and
the installer); without it, the PDF core font holds Latin-1 only and anything else shows '?'.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fpdf import FPDF

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = {"": FONT_DIR / "DejaVuSans.ttf", "B": FONT_DIR / "DejaVuSans-Bold.ttf"}
FAMILY = "DejaVu"
FALLBACK = "Helvetica"  # a PDF core font: Latin-1 only


class Report(FPDF):
    """A page with headings and wrapped lines in a font that holds every name."""

    def __init__(self) -> None:
        super().__init__()
        self.unicode = all(path.is_file() for path in FONTS.values())
        if self.unicode:
            for style, path in FONTS.items():
                self.add_font(FAMILY, style, str(path))
        self.family_name = FAMILY if self.unicode else FALLBACK

    def text_of(self, text: Any) -> str:
        """What the font can print: everything, or with the core font Latin-1 (else '?')."""
        if self.unicode:
            return str(text)
        return str(text).encode("latin-1", "replace").decode("latin-1")

    def bold(self, on: bool = True, size: int = 11) -> None:
        self.set_font(self.family_name, "B" if on else "", size)

    def heading(self, text: str, size: int = 14) -> None:
        self.bold(True, size)
        self.multi_cell(0, 8, self.text_of(text), new_x="LMARGIN", new_y="NEXT")
        self.bold(False)

    def line(self, text: str) -> None:  # type: ignore[override]
        self.multi_cell(0, 6, self.text_of(text), new_x="LMARGIN", new_y="NEXT")
