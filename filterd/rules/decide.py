"""The one place that decides an answer: a pure function of (query, profile, usage, now).

Every device goes through it: a child's device with the child's profile, any other device with
HOUSEHOLD, the profile of no child (nothing listed, nothing in force), for which only rows 0
to 2 can ever match.

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
| 7 | the name is on allow, or an allow_site in force   | allowed                    |
| 8 | walled-garden mode                                | blocked: walled garden     |
| 9a| an app's name, the carer blocked the app          | blocked: TikTok            |
| 9b| ... the app has allowed times, none open now      | blocked: Roblox (outside)  |
| 9c| ... the app's own daily limit is spent            | blocked: limit (YouTube)   |
| 9d| ... the overall daily limit is spent              | blocked: limit             |
| 9e| ... otherwise (allowed, in its times, in limit)   | allowed, whatever its category |
|10 | the child's blocked category, not let through now | blocked (names the app)    |
|11 | the overall daily limit is spent                  | blocked: limit             |
|12 | the category's daily limit is spent               | blocked: limit             |
|13 | otherwise                                         | allowed (safe search next) |

An app's names carry its category (the policy stage adds the app's category bit to the name's
mask), so a preset or household that blocks `social` blocks TikTok's API and CDN names too; a
carer's choice for the app (rows 9a-9e) wins over its category's, and the rows above it win
over both.

Working out what is in force (windows, overrides, spent limits) is the slow part, so it is a
separate step, `situation`, whose result holds until `Situation.until`; the daemon keeps it
per child and the per-query step, `judge`, is a few set and bit tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple
from zoneinfo import ZoneInfo

from filterd.catalogue.model import Service
from filterd.dns.block_answers import EDE_BLOCKED, EDE_FILTERED
from filterd.dns.query import Reason
from filterd.lists.categories import BY_ID, ids_of
from filterd.lists.store import HELPLINE, ILLEGAL
from filterd.rules.allowances import allowances
from filterd.rules.model import (
    ALLOW,
    ALWAYS,
    APP_BLOCKED,
    APP_LIMITED,
    APP_SCHEDULED,
    DENY,
    NO_SAFE_SEARCH,
    OverrideKind,
    Profile,
)
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
    open_services: frozenset[str] = frozenset()  # apps inside one of their allowed windows now
    spent_services: frozenset[str] = frozenset()  # apps whose own daily limit is spent
    allowed_sites: frozenset[bytes] = frozenset()  # allow_site overrides in force (wire names)


class Verdict(NamedTuple):
    blocked: bool
    reason: Reason
    ede: int  # Extended DNS Error code for a blocked answer
    text: str  # its extra text
    counts: bool  # an allowed answer that counts as usage


HOUSEHOLD = Profile("", "household", "", 0, safe_search=NO_SAFE_SEARCH, counts_usage=False)
"""The profile of a device that belongs to no child: the household's floor alone applies.

Only rows 0 to 2 can match it, and each needs a category bit on the name (an illegal-content
list entry carries the illegal tier's bit; row 2 is the household's categories), so a name in
no category is never blocked for HOUSEHOLD. filterd.policy.policy_stage relies on that: a
household device's query for such a name skips this table. A row that could block HOUSEHOLD
without a category would have to change that early return too."""
NOTHING_IN_FORCE = Situation(False, False, 0, 0, False, float("inf"))
"""HOUSEHOLD's situation, always: no pause, no window, no limit."""

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
    service: Service | None = None,
) -> Verdict:
    """The answer for one query: usage is today's minutes by category id, app id and OVERALL.

    `mask` already holds the app's category bit when the name is an app's."""
    return judge(qname, mask, profile, situation(profile, usage, now, tz), floor, service)


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


def judge(
    qname: bytes,
    mask: int,
    profile: Profile,
    now: Situation,
    floor: int,
    service: Service | None = None,
) -> Verdict:
    """Apply the precedence table to one name, given what is in force now."""
    if mask & HELPLINE and not mask & ILLEGAL:  # illegal outranks a helpline entry
        return HELPLINE_VERDICT
    if mask & floor:  # always holds ILLEGAL
        return Verdict(True, Reason.BLOCKED, EDE_BLOCKED, _named(mask & floor, service), False)
    marks = marks_of(qname, profile.marks) if profile.marks else 0
    if marks & ALWAYS:
        return ALLOWED_FREE
    if now.paused:
        return PAUSED
    if now.offline:
        return OFFLINE
    if marks & DENY:
        return DENIED
    if marks & ALLOW or (now.allowed_sites and listed(qname, now.allowed_sites)):
        return ALLOWED
    if profile.walled_garden:
        return WALLED
    if service is not None and profile.service_rules:
        rule = profile.service_rules.get(service.id)
        if rule:
            app = service.id
            if (
                rule & APP_BLOCKED
                or (rule & APP_SCHEDULED and app not in now.open_services)
                or (rule & APP_LIMITED and app in now.spent_services)
                or now.overall_spent
            ):
                return _app_blocked(service, rule, now)
            return ALLOWED  # 9e: the carer's choice for the app wins over its category
    blocked = mask & profile.block_mask & ~now.open_mask
    if blocked:
        return Verdict(True, Reason.BLOCKED, EDE_FILTERED, _named(blocked, service), False)
    if now.overall_spent:
        return OVERALL_LIMIT
    spent = mask & now.spent_mask
    if spent:
        text = "daily limit reached: " + ", ".join(ids_of(spent))
        return Verdict(True, Reason.LIMIT, EDE_FILTERED, text, False)
    return ALLOWED


def _app_blocked(service: Service, rule: int, now: Situation) -> Verdict:
    """Rows 9a-9d: which of the app's rows blocks it (judge has found that one does)."""
    if rule & APP_BLOCKED:
        return Verdict(True, Reason.BLOCKED, EDE_FILTERED, f"blocked: {service.name}", False)
    if rule & APP_SCHEDULED and service.id not in now.open_services:
        text = f"blocked: {service.name} (outside its allowed times)"
        return Verdict(True, Reason.BLOCKED, EDE_FILTERED, text, False)
    if rule & APP_LIMITED and service.id in now.spent_services:
        text = f"daily limit reached: {service.name}"
        return Verdict(True, Reason.LIMIT, EDE_FILTERED, text, False)
    return OVERALL_LIMIT


def _named(mask: int, service: Service | None = None) -> str:
    if service is not None:
        return f"blocked: {service.name} ({', '.join(ids_of(mask))})"
    return "blocked: " + ", ".join(ids_of(mask))


def situation(profile: Profile, usage: Mapping[str, int], now: float, tz: ZoneInfo) -> Situation:
    """Pause, offline, open categories and spent limits at `now`, and when that next changes."""
    edges = [now + NO_CHANGE]
    paused = lifted = False
    allowed_sites: set[bytes] = set()
    for override in profile.overrides:
        if not override.active(now):
            continue  # expired overrides are ignored
        if override.until is not None:
            edges.append(override.until)
        if override.kind is OverrideKind.PAUSE:
            paused = True
        elif override.kind is OverrideKind.LIFT_BEDTIME:
            lifted = True
        elif override.kind is OverrideKind.ALLOW_SITE and override.site is not None:
            allowed_sites.add(override.site)

    weekday, minute = local_minute(now, tz)
    offline = not lifted and any(window_open(w, weekday, minute) for w in profile.offline)
    open_mask = 0
    open_services: set[str] = set()
    for window in profile.allowed_during:
        if window_open(window, weekday, minute):
            open_mask |= window.categories
            open_services |= window.services
    for window in (*profile.offline, *profile.allowed_during):
        edges.extend(edge for edge in window_edges(window, now, tz) if edge > now)

    limits = profile.limits
    overall_spent = False
    spent_mask = 0
    spent_services = set()
    if limits:
        edges.append(next_reset(now, limits.reset, tz))
        allowed = allowances(profile, now)  # extra time included
        if allowed.overall is not None:
            overall_spent = usage.get(OVERALL, 0) >= allowed.overall
        for category, minutes in allowed.categories.items():
            if usage.get(category, 0) >= minutes:
                spent_mask |= 1 << BY_ID[category].bit
        for service_id, minutes in allowed.services.items():
            if usage.get(service_id, 0) >= minutes:
                spent_services.add(service_id)
    until = offset_change_before(now, min(edges), tz)
    return Situation(
        paused,
        offline,
        open_mask,
        spent_mask,
        overall_spent,
        until,
        frozenset(open_services),
        frozenset(spent_services),
        frozenset(allowed_sites),
    )
