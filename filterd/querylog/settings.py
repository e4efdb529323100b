"""The `query_log` section of filterd.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class QueryLogSettings:
    retention_days: int = 7
    queue_size: int = 100_000


def parse_query_log(v: Any, raw: Any) -> QueryLogSettings:
    """v is filterd.validate.Validator: it collects problems; bad values fall back to defaults."""
    d = QueryLogSettings()
    raw = v.mapping(raw, "query_log", {"retention_days", "queue_size"})
    return QueryLogSettings(
        retention_days=v.number(
            raw, "retention_days", "query_log", d.retention_days, 1, 3650, True
        ),
        queue_size=v.number(raw, "queue_size", "query_log", d.queue_size, 100, 10_000_000, True),
    )
