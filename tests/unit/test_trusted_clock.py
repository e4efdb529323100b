"""The trusted clock in process: time() taken once (as the query log and the policy stage take
it when the chain is built) still follows every change of the sync state afterwards."""

from __future__ import annotations

from pathlib import Path

from filterd.rules.trusted_time import TrustedClock
from tests.support.stages import MovableClock

GOOD = 1_800_000_000.0  # the last good time saved before the power cut


def test_time_taken_at_build_follows_sync_changes(tmp_path: Path) -> None:
    store = tmp_path / "last-good-time.json"
    store.write_text(f'{{"last_good_time": {GOOD}}}')
    base = MovableClock()  # a Pi back from a power cut: its clock far behind the saved time
    base.now = 0.0
    synced = [False]
    clock = TrustedClock(base, lambda: synced[0], store)
    now = clock.time  # taken once, before anything changes
    assert now() == GOOD
    base.advance(30)
    assert now() == GOOD + 30  # the last good time, moved on by the monotonic clock
    base.now = GOOD + 3600  # NTP sets the clock
    synced[0] = True
    clock.refresh()
    assert now() == GOOD + 3600 == clock.status()["rules_time"]
    base.now = 5.0  # sync lost again and the clock jumps back: the good time it saw holds
    synced[0] = False
    clock.refresh()
    assert now() == GOOD + 3600
    base.advance(10)
    assert now() == GOOD + 3610


def test_without_a_saved_time_an_unsynchronised_clock_is_the_systems(tmp_path: Path) -> None:
    base = MovableClock()
    clock = TrustedClock(base, lambda: False, tmp_path / "none.json")
    now = clock.time
    assert now() == base.now
    base.advance(5)
    assert now() == base.now
