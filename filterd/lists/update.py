"""Build the blocklist index from the shipped lists and the configured sources.

Each category is the curated list filterd ships for it plus whatever the config subscribes to.
A source that fails (network, 404, an HTML page, a list that shrank by half) contributes its
last good copy, so a failure never weakens the filter; with no copy at all the category still
has the shipped list. The new index is written beside the old one and renamed over it, and the
running daemon swaps it in within seconds. status.json records every source's outcome for the
dashboard and the metrics.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from filterd.lists.categories import CATEGORIES
from filterd.lists.index import IndexBuilder
from filterd.lists.parse import LineCounts, iter_names
from filterd.lists.settings import BlocklistSettings
from filterd.text.redact import redact_url

log = logging.getLogger(__name__)

INDEX_NAME = "index.bin"
STATUS_NAME = "status.json"


def index_path(settings: BlocklistSettings) -> Path:
    return settings.lists_update.directory / INDEX_NAME


def status_path(settings: BlocklistSettings) -> Path:
    return settings.lists_update.directory / STATUS_NAME


def build_index(
    settings: BlocklistSettings, online: bool, fetcher: Callable[..., Any] | None = None
) -> dict[str, Any]:
    """Compile the index; return (and save) the status report.

    online=False uses only the shipped lists, local files and copies already downloaded: the
    daemon's first start must never wait for, or depend on, the network.
    """
    from filterd.lists import fetch as fetch_module

    fetcher = fetcher or fetch_module.fetch
    directory = settings.lists_update.directory
    state_dir = directory / "sources"
    started = time.time()
    builder = IndexBuilder()
    sources: list[dict[str, Any]] = []
    for category in CATEGORIES:
        shipped = settings.lists_update.shipped / f"{category.id}.txt"
        if shipped.exists():
            text = shipped.read_text(encoding="utf-8", errors="replace")
            _add(builder, text, category.bit, LineCounts())
        for source in settings.lists.get(category.id, ()):
            report = {"category": category.id, "source": redact_url(source)}
            if _is_remote(source) and not online:
                body = fetch_module.stored_body(source, state_dir)
                report.update(
                    status="offline",
                    reason="using the last downloaded copy"
                    if body is not None
                    else "not downloaded yet",
                )
            else:
                result = fetcher(source, state_dir)
                body = result.body
                report.update(status=result.status, reason=result.reason)
                if body is None:
                    body = fetch_module.stored_body(source, state_dir)
                    if body is not None:
                        report["reason"] += "; the last good copy stays in force"
            domains = 0
            if body is not None:
                counts = LineCounts()
                domains = _add(builder, body, category.bit, counts)
                report["bad_lines"] = counts.bad
                body = None  # a large list is released before the next one is read
            report["domains"] = domains
            report.update(fetch_module.freshness(source, state_dir))
            sources.append(report)
    total = builder.write(index_path(settings))
    status = {
        "updated": time.time(),
        "seconds": round(time.time() - started, 3),
        "online": online,
        "domains": total,
        # Distinct domains each category blocks (shipped list and sources, overlaps once).
        "categories": {c.id: builder.per_bit.get(c.bit, 0) for c in CATEGORIES},
        "sources": sources,
        "failures": sum(1 for s in sources if s["status"] == "failed"),
    }
    _write_json(status_path(settings), status)
    return status


def _add(builder: IndexBuilder, text: str, bit: int, counts: LineCounts) -> int:
    """Stream a list's names into the builder; return how many block entries it gave."""
    add = builder.add_name
    entries = 0
    for is_exception, name in iter_names(text, counts):
        add(name, bit, is_exception)
        entries += not is_exception
    return entries


def _is_remote(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    tmp.replace(path)


def read_status(settings: BlocklistSettings) -> dict[str, Any] | None:
    try:
        return json.loads(status_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
