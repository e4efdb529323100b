"""When the daemon downloads its lists next (filterd/lists/schedule.py)."""

from __future__ import annotations

from filterd.lists.schedule import FIRST_UPDATE_DELAY, RETRY_AFTER_FAILURE, next_update_in
from filterd.lists.settings import BlocklistSettings, ListsUpdate

ADULT = "https://lists.example/adult.txt"
SECRET = "https://bob:hunter2@lists.example/paid.txt"
DAY = 86_400.0
NOW = 1_800_000_000.0


def settings(*sources: str, hours: float = 24) -> BlocklistSettings:
    return BlocklistSettings(
        lists={"adult": sources}, lists_update=ListsUpdate(refresh_hours=hours)
    )


def status(updated: float, *sources: tuple[str, str], failures: int = 0) -> dict:
    return {
        "online": True,
        "updated": updated,
        "failures": failures,
        "sources": [{"category": "adult", "source": s, "status": st} for s, st in sources],
    }


def test_a_first_start_on_shipped_lists_downloads_within_half_a_minute():
    offline = dict(status(NOW, (ADULT, "offline")), online=False)  # the start's own build
    assert next_update_in(offline, settings(ADULT), NOW) == FIRST_UPDATE_DELAY
    assert next_update_in(offline, settings(ADULT), NOW + 20) == FIRST_UPDATE_DELAY - 20
    assert next_update_in(offline, settings(ADULT), NOW + 31) == 0
    assert next_update_in(None, settings(ADULT), NOW) == 0  # no status at all: at once


def test_a_good_update_waits_a_day_and_a_late_one_runs_at_once():
    done = status(NOW - 3600, (ADULT, "updated"))
    assert next_update_in(done, settings(ADULT), NOW) == DAY - 3600
    assert next_update_in(done, settings(ADULT), NOW + DAY) == 0


def test_a_failed_source_is_tried_again_within_the_hour_not_the_next_day():
    failed = status(NOW - 600, (ADULT, "failed"), failures=1)
    assert next_update_in(failed, settings(ADULT), NOW) == RETRY_AFTER_FAILURE - 600


def test_a_source_added_to_the_config_is_downloaded_at_once_not_after_the_day():
    done = status(NOW - 3600, (ADULT, "updated"))
    added = settings(ADULT, SECRET)
    assert next_update_in(done, added, NOW) == 0
    # The status names sources with their credentials hidden; that is the same source.
    both = status(NOW - 60, (ADULT, "updated"), ("https://***@lists.example/paid.txt", "updated"))
    assert next_update_in(both, added, NOW) == DAY - 60
