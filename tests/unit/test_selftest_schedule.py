"""When each child's self-test runs inside filterd (filterd.selftest.schedule): on new rules,
not again the same day, again when someone asks, and saying why nothing was tested when asked
with no child's device to test. The probe and the request store stand in for the chain and the
event log; the schedule itself is the real one."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from filterd.events.kinds import SELFTEST_FAILED, SELFTEST_RESULT
from filterd.selftest.profiles import NOTHING_TO_TEST
from filterd.selftest.run import Check
from filterd.selftest.schedule import SELFTEST_INTERVAL, SelftestSchedule
from tests.support.stages import MovableClock


class Probe:
    def __init__(self) -> None:
        self.asked: list[object] = []
        self.checks: list[Check] = [Check("Sam's rules", True, "blocked as set")]

    async def check(self, rules, tracker, lists) -> list[Check]:
        self.asked.append(rules)
        return list(self.checks)


class Requests:
    def __init__(self) -> None:
        self.waiting = False

    async def pending(self, started: float) -> bool:
        asked, self.waiting = self.waiting, False
        return asked


def schedule_for(rules: object) -> tuple[SelftestSchedule, Probe, Requests, list, MovableClock]:
    probe, requests, emitted, clock = Probe(), Requests(), [], MovableClock()
    service = SimpleNamespace(rules=rules, tracker=None)
    lists = SimpleNamespace(settings=None)

    def emit(kind, **fields) -> None:
        emitted.append((kind, fields))

    schedule = SelftestSchedule(probe, requests, service, lists, emit, clock, None)  # type: ignore[arg-type]
    return schedule, probe, requests, emitted, clock


def test_each_childs_test_runs_on_new_rules_once_a_day_and_when_asked():
    rules = object()
    schedule, probe, requests, emitted, clock = schedule_for(rules)
    asyncio.run(schedule.tick())
    asyncio.run(schedule.tick())
    assert probe.asked == [rules]  # once for these rules, not every tick
    assert [kind for kind, _ in emitted] == [SELFTEST_RESULT]
    assert emitted[0][1]["data"]["scope"] == "profiles"
    clock.advance(SELFTEST_INTERVAL)
    asyncio.run(schedule.tick())
    assert len(probe.asked) == 2  # a day later: again
    requests.waiting = True
    probe.checks = [Check("Sam's rules", False, "gambling.example answered")]
    asyncio.run(schedule.tick())
    assert len(probe.asked) == 3 and emitted[-1][0] == SELFTEST_FAILED


def test_asked_with_no_childs_device_it_says_there_was_nothing_to_test():
    schedule, probe, requests, emitted, _ = schedule_for(object())
    probe.checks = []
    asyncio.run(schedule.tick())
    assert emitted == []  # not asked: nothing to say
    requests.waiting = True
    asyncio.run(schedule.tick())
    assert [kind for kind, _ in emitted] == [SELFTEST_RESULT]
    assert emitted[0][1]["data"]["checks"] == [NOTHING_TO_TEST._asdict()]
