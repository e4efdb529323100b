"""The one place that decides a child's answer: a pure function of (query, profile, usage, now).

Precedence, first match wins (README "Precedence" repeats this table):

| # | when                                              | answer                     |
|---|---------------------------------------------------|----------------------------|
| 0 | the name is on an illegal-content list            | blocked (EDE 15), logged   |
| 1 | the name is a helpline                            | allowed, never logged      |
| 2 | the household blocks its category (illegal too)   | blocked (EDE 15)           |
| 3 | the name is on always_allow                       | allowed, not counted       |
| 4 | a pause is in force                               | blocked: paused            |
| 5 | inside an offline window (unless bedtime lifted)  | blocked: offline           |
| 6 | the name is on deny                               | blocked: denied            |
| 7 | the name is on allow                              | allowed                    |
| 8 | walled-garden mode                                | blocked: walled garden     |
| 9 | the child's blocked category, not let through now | blocked                    |
|10 | the overall daily limit is spent                  | blocked: limit             |
|11 | the category's daily limit is spent               | blocked: limit             |
|12 | otherwise                                         | allowed (safe search next) |

Working out what is in force (windows, overrides, spent limits) is the slow part, so it is a
separate step, `situation`, whose result holds until `Situation.until`; the daemon keeps it
per child and the per-query step, `judge`, is a few set and bit tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple
from zoneinfo import ZoneInfo

from filterd.dns.query import Reason
from filterd.lists.categories import BY_ID, ids_of
from filterd.lists.store import HELPLINE, ILLEGAL
from filterd.policy.block_answers import EDE_BLOCKED, EDE_FILTERED
from filterd.rules.model import ALLOW, ALWAYS, DENY, OverrideKind, Profile
from filterd.rules.schedule import (
    local_minute,
    next_reset,
    offset_change_before,
    window_edges,
    window_open,
)

OVERALL = "overall"  # the usage key for all active minutes, beside each category's id
NO_CHANGE = 7 * 86_400.0  # nothing scheduled: look again in a week


class Situation(NamedTuple):
    """What is in force for one child from now until `until`."""

    paused: bool
    offline: bool
    open_mask: int  # categories let through by an allowed_during window now
    spent_mask: int  # categories whose daily limit is spent
    overall_spent: bool
    until: float  # the next instant at which any of this can change by itself


class Verdict(NamedTuple):
    blocked: bool
    reason: Reason
    ede: int  # Extended DNS Error code for a blocked answer
    text: str  # its extra text
    counts: bool  # an allowed answer that counts as usage


ALLOWED = Verdict(False, Reason.FORWARDED, 0, "", True)
ALLOWED_FREE = Verdict(False, Reason.FORWARDED, 0, "", False)  # always_allow: not screen time
HELPLINE_VERDICT = Verdict(False, Reason.HELPLINE, 0, "", False)
PAUSED = Verdict(True, Reason.PAUSED, EDE_FILTERED, "paused by a carer", False)
OFFLINE = Verdict(True, Reason.OFFLINE, EDE_FILTERED, "offline time", False)
DENIED = Verdict(True, Reason.DENIED, EDE_FILTERED, "on this child's deny list", False)
WALLED = Verdict(True, Reason.WALLED_GARDEN, EDE_FILTERED, "not on the allowed list", False)
OVERALL_LIMIT = Verdict(True, Reason.LIMIT, EDE_FILTERED, "daily limit reached", False)


def decide(
    qname: bytes,
    mask: int,
    profile: Profile,
    usage: Mapping[str, int],
    now: float,
    tz: ZoneInfo,
    floor: int,
) -> Verdict:
    """The answer for one query: usage is today's minutes by category id and OVERALL."""
    return judge(qname, mask, profile, situation(profile, usage, now, tz), floor)


def listed(qname: bytes, names: frozenset[bytes]) -> bool:
    """Whether the name or one of its parents is in the set."""
    pos = 0
    length = qname[0]
    while length:
        if qname[pos:] in names:
            return True
        pos += length + 1
        length = qname[pos]
    return False


def marks_of(qname: bytes, marks: dict[bytes, int]) -> int:
    """The union of Profile.marks (ALLOW, DENY, ALWAYS) of the name and its parents."""
    found = 0
    pos = 0
    length = qname[0]
    while length:
        found |= marks.get(qname[pos:], 0)
        pos += length + 1
        length = qname[pos]
    return found


def judge(qname: bytes, mask: int, profile: Profile, now: Situation, floor: int) -> Verdict:
    """Apply the precedence table to one name, given what is in force now."""
    if mask & HELPLINE and not mask & ILLEGAL:  # illegal outranks a helpline entry
        return HELPLINE_VERDICT
    if mask & floor:  # always holds ILLEGAL
        return Verdict(True, Reason.BLOCKED, EDE_BLOCKED, _named(mask & floor), False)
    marks = marks_of(qname, profile.marks) if profile.marks else 0
    if marks & ALWAYS:
        return ALLOWED_FREE
    if now.paused:
        return PAUSED
    if now.offline:
        return OFFLINE
    if marks & DENY:
        return DENIED
    if marks & ALLOW:
        return ALLOWED
    if profile.walled_garden:
        return WALLED
    blocked = mask & profile.block_mask & ~now.open_mask
    if blocked:
        return Verdict(True, Reason.BLOCKED, EDE_FILTERED, _named(blocked), False)
    if now.overall_spent:
        return OVERALL_LIMIT
    spent = mask & now.spent_mask
    if spent:
        text = "daily limit reached: " + ", ".join(ids_of(spent))
        return Verdict(True, Reason.LIMIT, EDE_FILTERED, text, False)
    return ALLOWED


def _named(mask: int) -> str:
    return "blocked: " + ", ".join(ids_of(mask))


def situation(profile: Profile, usage: Mapping[str, int], now: float, tz: ZoneInfo) -> Situation:
    """Pause, offline, open categories and spent limits at `now`, and when that next changes."""
    edges = [now + NO_CHANGE]
    paused = lifted = False
    extra_everything = 0
    extra: dict[str, int] = {}
    for override in profile.overrides:
        if not override.active(now):
            continue  # expired overrides are ignored
        if override.until is not None:
            edges.append(override.until)
        if override.kind is OverrideKind.PAUSE:
            paused = True
        elif override.kind is OverrideKind.LIFT_BEDTIME:
            lifted = True
        elif override.category is None:
            extra_everything += override.minutes
        else:
            extra[override.category] = extra.get(override.category, 0) + override.minutes

    weekday, minute = local_minute(now, tz)
    offline = not lifted and any(window_open(w, weekday, minute) for w in profile.offline)
    open_mask = 0
    for window in profile.allowed_during:
        if window_open(window, weekday, minute):
            open_mask |= window.categories
    for window in (*profile.offline, *profile.allowed_during):
        edges.extend(edge for edge in window_edges(window, now, tz) if edge > now)

    limits = profile.limits
    overall_spent = False
    spent_mask = 0
    if limits:
        edges.append(next_reset(now, limits.reset, tz))
        if limits.overall is not None:
            # Extra time for one category is time online too: it extends the overall limit.
            extra_overall = extra_everything + sum(extra.values())
            overall_spent = usage.get(OVERALL, 0) >= limits.overall + extra_overall
        for category, minutes in limits.categories.items():
            allowance = minutes + extra_everything + extra.get(category, 0)
            if usage.get(category, 0) >= allowance:
                spent_mask |= 1 << BY_ID[category].bit
    until = offset_change_before(now, min(edges), tz)
    return Situation(paused, offline, open_mask, spent_mask, overall_spent, until)
