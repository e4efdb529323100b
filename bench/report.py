"""Write results files and print plain-text tables; knows nothing about what was measured."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def utc_stamp(now: datetime | None = None) -> str:
    """Compact UTC timestamp for file names, e.g. 20250101T120000Z."""
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


def write_results(name: str, data: dict[str, Any], results_dir: Path, stamp: str) -> Path:
    """Write ``<name>-<stamp>.json`` and replace ``<name>-latest.json`` with the same content."""
    results_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_finite(data), indent=2, sort_keys=False) + "\n"
    path = results_dir / f"{name}-{stamp}.json"
    path.write_text(text, encoding="utf-8")
    latest = results_dir / f"{name}-latest.json"
    tmp = latest.with_suffix(".json.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, latest)  # readers never see a half-written 'latest'
    return path


def _finite(value: Any) -> Any:
    """Replace NaN/inf with None: strict JSON has no such numbers."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned first column, right-aligned numbers, no dependencies."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest]).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def fmt(value: float | None, digits: int = 2, suffix: str = "") -> str:
    """A number for a table cell, or '-' when it was not measured."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:,.{digits}f}{suffix}"


def target_lines(targets: list[dict[str, Any]]) -> list[str]:
    """One PASS/MISS line per target, flagged when the machine was too busy to trust."""
    lines = []
    for t in targets:
        verdict = "PASS" if t["pass"] else "MISS"
        caveat = "" if t["reliable"] else "  UNRELIABLE: machine was busy, run again"
        lines.append(f"{verdict}  {t['target']}  (measured {fmt(t['value'], 3)}){caveat}")
    return lines
