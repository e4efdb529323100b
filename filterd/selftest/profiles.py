"""The self-test per child profile in use, through the real DNS path inside filterd.

For each child with a device, a policy stage like the one in the chain (filterd.chain) is put
on the chain's own cache and upstream, identifying every question as that child's: sample
names of each category the profile blocks must be blocked, a search engine must get its safe
variant when safe search is on, and a name asked at a moment inside the child's bedtime must
be refused for bedtime. Questions are parsed from wire bytes as a device's are. The test's
questions are not written to the query log (so they never appear in a child's history or
raise an alert) and count no minutes: the probe uses a copy of today's usage, so a spent limit
still applies to it.
"""

from __future__ import annotations

import inspect
import time
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from dnslib import DNSRecord

from filterd.clock import Clock
from filterd.dns.query import BLOCK_LABELS, BLOCKING_REASONS, Reason, Reply, Stage, Transport
from filterd.lists.categories import ids_of, label_of
from filterd.lists.service import Blocklists
from filterd.lists.settings import BlocklistSettings
from filterd.policy.policy_stage import PolicyStage
from filterd.rules.child_state import ChildState
from filterd.rules.decide import situation
from filterd.rules.identify import everyone_as
from filterd.rules.model import Profile, Rules
from filterd.rules.safe_search_names import rewrites
from filterd.rules.usage import UsageTracker
from filterd.selftest.run import Check
from filterd.selftest.samples import sample_names, standing_notice, uncovered
from filterd.serve.admission import Parse
from filterd.serve.metrics import ServeCounters

PROBE_CLIENT = "127.0.0.1"  # never identified: the probe's policy stage names the child
BEDTIME_NAME = "bedtime-check.example"  # any name: bedtime refuses every one
STEP = 15 * 60  # how finely the week ahead is searched for a bedtime moment
NOTHING_TO_TEST = Check(
    "Each child's rules", True, "no child has a device yet, so there was nothing to test"
)


class AtMoment:
    """A clock that reads `moment` (a bedtime check asks as if it were bedtime)."""

    def __init__(self, clock: Clock, moment: float | None = None) -> None:
        self.moment = moment
        self.monotonic = clock.monotonic
        self._time = clock.time

    def time(self) -> float:
        return self._time() if self.moment is None else self.moment


def bedtime_moment(profile: Profile, rules: Rules, now: float) -> float | None:
    """The first quarter-hour in the next week inside one of the child's offline windows."""
    if not profile.offline:
        return None
    for step in range(1, 7 * 24 * 4 + 1):
        moment = now + step * STEP
        if situation(profile, {}, moment, rules.timezone).offline:
            return moment
    return None


def awake_moment(profile: Profile, rules: Rules, now: float) -> float | None:
    """Now, or the first quarter-hour ahead outside the child's offline windows: category and
    safe-search checks asked at bedtime would be refused for bedtime and prove nothing."""
    for step in range(7 * 24 * 4 + 1):
        moment = now + step * STEP
        if not situation(profile, {}, moment, rules.timezone).offline:
            return None if step == 0 else moment
    return None


def plainly(reason: Reason) -> str:
    """How a reply was answered, as Health and the report show it (never the reason's value)."""
    label = BLOCK_LABELS.get(reason)
    return f"blocked ({label.lower()})" if label else "answered as usual"


def usage_copy(tracker: UsageTracker) -> UsageTracker:
    copy = UsageTracker(tracker.background)
    copy.days = {key: dict(counts) for key, counts in tracker.days.items()}
    copy.last = dict(tracker.last)
    return copy


class ProfileProbe:
    """Asks the chain's lower half as one child's device would."""

    def __init__(
        self,
        below_policy: Stage,
        blocklists: Blocklists,
        counters: ServeCounters,  # what its parse step counts (malformed, dropped)
        clock: Clock,
    ) -> None:
        self.below = below_policy
        self.blocklists = blocklists
        self.counters = counters
        self.clock = clock

    async def ask(self, state: ChildState, name: str, moment: float | None = None) -> Reply:
        clock = AtMoment(self.clock, moment)
        as_child = SimpleNamespace(identify=everyone_as(state))  # every address: the child's
        policy = PolicyStage(self.below, self.blocklists, as_child, clock)
        parse = Parse(policy.__call__, self.counters, clock)
        wire = bytes(DNSRecord.question(name, "A").pack())
        answer = parse(wire, PROBE_CLIENT, Transport.UDP)
        return await answer if inspect.isawaitable(answer) else answer

    async def check(
        self, rules: Rules, tracker: UsageTracker, lists: BlocklistSettings
    ) -> list[Check]:
        checks: list[Check] = []
        in_use = {device.owner for device in rules.devices if device.owner}
        now = self.clock.time()
        for child_id, profile in rules.children.items():
            if child_id not in in_use:
                continue
            first = profile.name.split()[0] if profile.name.strip() else child_id
            state = ChildState(
                profile, rules.timezone, usage_copy(tracker), rewrites(profile.safe_search)
            )
            awake = awake_moment(profile, rules, now)  # None: now
            # What this child's device meets: the profile's categories and the household's.
            blocked = set(ids_of(profile.block_mask)) | set(lists.block_categories)
            for category in sorted(blocked):
                label = f"{first}: {label_of(category)}"
                names = sample_names(lists, category)
                if not names:
                    notice = standing_notice(lists, category)
                    if notice is not None:
                        checks.append(Check(f"{label} blocked", True, notice, notice=True))
                        continue
                    checks.append(Check(f"{label} blocked", False, uncovered(lists, category)))
                    continue
                missed = [
                    n
                    for n in names
                    if (await self.ask(state, n, awake)).reason not in BLOCKING_REASONS
                ]
                detail = f"{len(names)} names blocked"
                if missed:
                    detail = "answered: " + ", ".join(missed)
                checks.append(Check(f"{label} blocked", not missed, detail))
            if state.rewrites:
                wire = next(iter(state.rewrites))
                engine = ".".join(part[1:].decode("ascii", "replace") for part in _labels(wire))
                reply = await self.ask(state, engine, awake)
                ok = reply.reason is Reason.SAFE_SEARCH
                detail = f"{engine}: safe variant" if ok else f"{engine}: {plainly(reply.reason)}"
                checks.append(Check(f"{first}: safe search", ok, detail))
            moment = bedtime_moment(profile, rules, now)
            if moment is not None:
                reply = await self.ask(state, BEDTIME_NAME, moment)
                ok = reply.reason is Reason.OFFLINE
                when = datetime.fromtimestamp(moment, rules.timezone).strftime("%a %H:%M")
                detail = "refused at bedtime" if ok else f"not refused: {plainly(reply.reason)}"
                checks.append(Check(f"{first}: bedtime", ok, f"{detail}, checked as at {when}"))
        return checks


def _labels(wire: bytes) -> list[bytes]:
    """The length-prefixed labels of a wire name (each with its length byte)."""
    found, at = [], 0
    while at < len(wire) and wire[at]:
        length = wire[at]
        found.append(wire[at : at + 1 + length])
        at += 1 + length
    return found


def summary(checks: list[Check], started: float) -> dict[str, Any]:
    return {
        "ok": all(c.ok for c in checks),
        "seconds": round(time.time() - started, 3),
        "checks": [c._asdict() for c in checks],
        "scope": "profiles",
    }
