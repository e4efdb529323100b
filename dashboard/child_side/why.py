"""Why a name was blocked for the device asking: address -> device -> child with filterd's
own identify, then filterd's record of the block (the query log) or, before that row is
written, the same decision filterd made (filterd's decide on the lists and catalogue in force),
so the page says what DNS did. Nothing about any other child is read, and
a device that belongs to no child gets the general answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from dashboard.child_side.helplines import Helpline, helplines_for, needs_help_section
from dashboard.child_side.words import because, time_for
from dashboard.data.activity import usage_today
from dashboard.data.when_words import hour_minute
from filterd.catalogue.model import Catalogue
from filterd.db.read import FilterdReader
from filterd.dns.query import ASKABLE_REASONS, Reason
from filterd.lists.categories import BY_ID, ids_of
from filterd.lists.index import domain_to_wire
from filterd.lists.store import HELPLINE, ListStore
from filterd.rules.bedtime import bedtime_ends, pause_ends
from filterd.rules.decide import Situation, judge, situation
from filterd.rules.identify import device_entry, identify_for
from filterd.rules.model import Profile, Rules
from filterd.rules.usage import UsageTracker

RECENT = 600.0  # seconds: a block this recent is the one the page is shown for


class Why(NamedTuple):
    """What the block page says."""

    headline: str
    reason: str  # one or two sentences for the child
    categories: tuple[str, ...]  # the name's categories (they choose the helplines)
    helplines: tuple[Helpline, ...]
    help_first: bool  # lead with "you can talk to someone"
    child: str = ""  # the child's id when the device is theirs ('' for a visitor)
    device: str = ""  # the device's name in the rules
    can_ask: bool = False  # a request for access may be made (never for illegal content)
    blocked_by: str = ""  # filterd's reason (offline, paused...): a refused ask says it kindly


def child_of(rules: Rules, client: str, filterd_db: FilterdReader) -> Profile | None:
    """The child whose device this address is, exactly as filterd's identify works it out."""
    neighbours = filterd_db.neighbours_of(client)
    return _identified(rules, client, neighbours)


def _identified(rules: Rules, client: str, neighbours: dict[str, str]) -> Profile | None:
    state = identify_for(rules, UsageTracker(frozenset()), neighbours, lambda _: None).lookup(
        client
    )
    if state is None:
        return None
    profile = state.profile
    return profile if rules.children.get(profile.id) is profile else None


def explain(
    rules: Rules | None,
    client: str,
    host: str,
    filterd_db: FilterdReader,
    now: float,
    catalogue: Catalogue,
    recent: float = RECENT,
    lists: ListStore | None = None,
    floor: int = 0,
) -> Why:
    """What the block page tells the device at `client` about `host`.

    filterd's log row for the block is written a moment after the DNS answer, and a browser
    asks for the page at once: with no row yet, the page works out the same decision filterd
    made (filterd.rules.decide.judge on the name's categories from `lists`, the household
    `floor` and the app catalogue) rather than falling back to a reason-less page."""
    profile = None if rules is None else child_of(rules, client, filterd_db)
    if rules is None or profile is None:
        return general()
    block = filterd_db.last_block(client, host, now - recent)
    if block is not None and block.child != profile.id:
        block = None  # answered under other rules (before a device changed hands)
    in_force = situation(profile, usage_today(filterd_db, profile, rules, now), now, rules.timezone)
    if block is not None:
        reason, categories, service = block.reason, block.categories, block.service
    else:
        reason, categories, service = _decided(host, profile, in_force, catalogue, lists, floor)
    app = catalogue.services[service].name if service in catalogue.services else ""
    words = _sentence(reason, categories, app, profile, in_force, now, rules)
    shown = categories if reason == Reason.BLOCKED else ()
    askable = reason in ASKABLE_REASONS and "illegal" not in categories
    return Why(
        "This site is blocked on this Wi-Fi",
        words,
        shown,
        helplines_for(shown),
        needs_help_section(shown),
        profile.id,
        device_name(rules, client, filterd_db.neighbours_of(client)),
        askable,
        reason,
    )


def device_name(rules: Rules, client: str, neighbours: dict[str, str]) -> str:
    """The rules' name for the device at this address, the entry filterd applies to it."""
    device = device_entry(rules.devices, client, neighbours)
    return device.name if device is not None else "a device"


def general() -> Why:
    """For a device that belongs to no child: nothing about anyone, only the rule and help."""
    return Why(
        "This site is blocked on this Wi-Fi",
        "The people who look after this home have chosen to block this site on their Wi-Fi.",
        (),
        helplines_for(()),
        False,
    )


def _decided(
    host: str,
    profile: Profile,
    in_force: Situation,
    catalogue: Catalogue,
    lists: ListStore | None,
    floor: int,
) -> tuple[str, tuple[str, ...], str]:
    """(reason, categories, app id) of filterd's answer for `host` now, judged as its policy
    stage judges it; with no lists to read, only what needs none (pause, bedtime)."""
    if lists is None or not host:
        return _reason_now(in_force), (), ""
    qname = domain_to_wire(host)
    mask = lists.categories(qname)
    service = catalogue.service_of(qname)
    if service is not None and service.mask and not lists.is_essential(qname):
        mask |= service.mask
    verdict = judge(qname, mask, profile, in_force, floor, service)
    if not verdict.blocked:
        return "", (), ""
    return str(verdict.reason), tuple(ids_of(mask & ~HELPLINE)), service.id if service else ""


def _reason_now(in_force: Situation) -> str:
    if in_force.paused:
        return Reason.PAUSED
    if in_force.offline:
        return Reason.OFFLINE
    return ""


class Said(NamedTuple):
    """What a child's sentence about a block is worked out from."""

    categories: tuple[str, ...]
    app: str  # the app's name ('' for none)
    profile: Profile
    in_force: Situation
    now: float
    rules: Rules


ANY_BLOCK = "The people who look after you have chosen to block this site on this Wi-Fi."


def _paused(said: Said) -> str:
    until = pause_ends(said.profile, said.now)
    if until is None:
        return "A grown-up who looks after you has paused the internet on this device for now."
    return (
        "A grown-up who looks after you has paused the internet on this device until "
        f"{hour_minute(until, said.rules.timezone)}."
    )


def _offline(said: Said) -> str:
    until = bedtime_ends(said.profile, said.now, said.rules.timezone)
    end = f" until {hour_minute(until, said.rules.timezone)}" if until is not None else ""
    return f"It is bedtime, so the internet is off on this device{end}. Sleep well!"


def _limit(said: Said) -> str:
    spent = [c for c in said.categories if said.in_force.spent_mask >> _bit(c) & 1]
    if said.app:
        return f"You have used up today's time for {said.app}. It comes back tomorrow."
    if spent:
        return f"You have used up today's time for {time_for(spent[0])}. It comes back tomorrow."
    return "You have used up today's time online. It comes back tomorrow."


def _denied(_said: Said) -> str:
    return "A grown-up who looks after you has chosen to block this site for you."


def _walled_garden(_said: Said) -> str:
    return "On this device you can only visit the sites a grown-up has chosen for you."


def _blocked(said: Said) -> str:
    if said.app:
        return f"{said.app} is blocked for you on this Wi-Fi."
    reasons = [because(c) for c in said.categories if because(c)]
    return f"This site is blocked because {reasons[0]}." if reasons else ANY_BLOCK


# The child's sentence for each reason a block page can be shown for (every one of filterd's
# BLOCKING_REASONS: tests/unit/test_reason_tables.py fails for one missing here).
SENTENCES: dict[Reason, Callable[[Said], str]] = {
    Reason.PAUSED: _paused,
    Reason.OFFLINE: _offline,
    Reason.LIMIT: _limit,
    Reason.DENIED: _denied,
    Reason.WALLED_GARDEN: _walled_garden,
    Reason.BLOCKED: _blocked,
}


def _sentence(
    reason: str,
    categories: tuple[str, ...],
    app: str,
    profile: Profile,
    in_force: Situation,
    now: float,
    rules: Rules,
) -> str:
    """The child's sentence; a reason with none (none known yet) gets the general one."""
    said = SENTENCES.get(reason)  # type: ignore[call-overload]  # a str finds its StrEnum key
    if said is None:
        return ANY_BLOCK
    return said(Said(categories, app, profile, in_force, now, rules))


def _bit(category: str) -> int:
    return BY_ID[category].bit if category in BY_ID else 63
