"""One version of a child's online-safety agreement as a PDF to print and sign (fpdf2, the same
library and page style as the monthly evidence report)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from dashboard.data import agreement_form, rule_words
from dashboard.data.agreements import Version
from dashboard.reports.pdf import UNPRINTABLE_NOTE, Report, unprintable


def _when(ts: float, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(ts, tz).strftime("%d %b %Y %H:%M")


def texts_of(version: Version, name: str) -> list[str]:
    """Everything people typed that the printed agreement shows."""
    typed = [str(value) for value in version.fields.values() if isinstance(value, str)]
    return [name, *typed, *(s.signer for s in version.signatures)]


def build(
    version: Version,
    name: str,
    status_words: str,
    tz: ZoneInfo,
    app_names: Mapping[str, str] | None = None,
) -> bytes:
    """The agreement as printed: the rules in force, who took part, the risk assessment, the
    child's own words, the review date and a signature line for each person."""
    pdf = Report()
    pdf.set_title(f"Online-safety agreement: {name}")
    pdf.add_page()
    pdf.heading(f"Online-safety agreement: {name}", 16)
    if unprintable(texts_of(version, name)):
        pdf.line(UNPRINTABLE_NOTE)
    pdf.line(f"Version {version.number}, made {_when(version.ts, tz)}. {status_words}.")
    review = version.review_date()
    if review is not None:
        pdf.line(f"Review date: {review:%d %b %Y}.")

    pdf.heading("The rules in force on the home's Wi-Fi")
    for setting, value in version.in_force:
        pdf.line(rule_words.line(setting, value, app_names or {}))
    pdf.line("These rules work on the home's Wi-Fi only, not on mobile data.")

    if version.observed:
        pdf.heading("Direct observation")
        pdf.line(f"{name}'s use of devices needs direct observation.")
        pdf.line(f"How: {version.field('observation_how')}")

    pdf.heading("Who took part")
    anyone = False
    for key, label in agreement_form.PEOPLE:
        who, on = version.field(f"{key}_name"), version.field(f"{key}_on")
        if who:
            anyone = True
            pdf.line(f"{label}: {who}" + (f", on {on}" if on else ""))
    if not anyone:
        pdf.line(
            "Nobody recorded yet."
            + (
                " The rules changed since the last version: who discussed the new ones"
                " is recorded again."
                if version.cause == "rules_changed"
                else ""
            )
        )

    pdf.heading("Risk assessment")
    for item in agreement_form.RISK:
        pdf.bold()
        pdf.line(item.label)
        pdf.bold(False)
        pdf.line(version.field(item.key) or "(not recorded)")

    pdf.heading(f"{name}'s own words")
    missing = "(not recorded)"
    pdf.line(f"I agree to: {version.field('agrees') or missing}")
    pdf.line(f"If something upsets me, I will tell: {version.field('will_tell') or missing}")

    pdf.heading("Signatures")
    for signature in version.signatures:
        pdf.line(
            f"Signed by {signature.signer} ({signature.part_label.lower()}),"
            f" recorded by {signature.recorded_by} on {_when(signature.ts, tz)}."
        )
    for _, label in agreement_form.PEOPLE:
        pdf.ln(6)
        pdf.line(f"{label}: name ______________________  signed ______________________")
        pdf.line("Date ____________")
    return bytes(pdf.output())
