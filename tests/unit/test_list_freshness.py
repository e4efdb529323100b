"""How old the lists are (filterd/lists/freshness.py), as the stale-lists event and Health's
blocklist part say it: by each source's last good download, not the index's build time."""

from __future__ import annotations

import json
from pathlib import Path

from dashboard.data.list_health import list_health
from filterd.events.conditions import stale_problems
from filterd.lists.settings import BlocklistSettings, ListsUpdate

NOW = 1_800_000_000.0
HOUR, DAY = 3600.0, 86_400.0
ADULT = "https://lists.example/adult.txt"
MORE = "https://lists.example/more.txt"


def source(url: str, status: str = "updated", **times: float) -> dict:
    return {"category": "adult", "source": url, "status": status, "reason": "", **times}


def status(*sources: dict) -> dict:
    # Built a minute ago, as after every attempt, whatever the downloads did.
    return {"online": True, "updated": NOW - 60, "sources": list(sources), "failures": 0}


def test_a_source_failing_for_four_days_is_reported_though_the_index_is_rebuilt_daily():
    failing = source(ADULT, "failed", succeeded_at=NOW - 4 * DAY, first_checked_at=NOW - 9 * DAY)
    failing["reason"] = "could not connect: Network is unreachable"
    problems = [p["problem"] for p in stale_problems(status(failing), 24, NOW)]
    assert problems == [
        "could not connect: Network is unreachable",
        "no good download for more than 3 days",
    ]
    yesterday = dict(failing, succeeded_at=NOW - DAY)
    assert [p["problem"] for p in stale_problems(status(yesterday), 24, NOW)] == [
        "could not connect: Network is unreachable"
    ]


def test_a_source_never_downloaded_is_stale_three_days_after_the_first_try():
    never = source(ADULT, "failed", first_checked_at=NOW - 4 * DAY)
    assert "no good download for more than 3 days" in str(stale_problems(status(never), 24, NOW))
    new = source(ADULT, "failed", first_checked_at=NOW - HOUR)
    assert "no good download" not in str(stale_problems(status(new), 24, NOW))


def health(tmp_path: Path, *sources: dict) -> dict[str, tuple[str, bool]]:
    directory = tmp_path / "lists"
    directory.mkdir()
    (directory / "status.json").write_text(json.dumps(status(*sources)))
    settings = BlocklistSettings(
        lists={"adult": (ADULT, MORE)}, lists_update=ListsUpdate(directory=directory)
    )
    shown = list_health(settings, None, NOW)
    assert shown is not None
    return {row.label: (row.updated, row.stale) for row in shown.rows}


def test_health_words_for_a_category_half_downloaded_and_one_never(tmp_path: Path):
    rows = health(
        tmp_path,
        source(ADULT, succeeded_at=NOW - 2 * HOUR, first_checked_at=NOW - 2 * HOUR),
        source(MORE, "failed", first_checked_at=NOW - 2 * HOUR),
    )
    assert rows["adult"] == ("updated 2 hours ago (one of its lists not downloaded yet)", False)
    assert rows["gambling"] == ("shipped with filterd", False)


def test_health_says_out_of_date_by_the_oldest_good_download(tmp_path: Path):
    rows = health(
        tmp_path,
        source(ADULT, succeeded_at=NOW - HOUR),
        source(MORE, "failed", succeeded_at=NOW - 5 * DAY),
    )
    assert rows["adult"] == ("updated 5 days ago", True)
