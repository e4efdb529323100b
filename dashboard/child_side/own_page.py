"""The child's own page (http://filterd.home.arpa/me): what applies to this device now, its
requests for access and their answers. For HTTPS sites, where no block page can show, this is
where a child finds out why. Worked out from the device's address like the block page; a
device that is no child's sees only the general part."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from dashboard.child_side.words import time_for
from dashboard.data.access_requests import AccessRequest
from dashboard.data.activity import usage_today
from dashboard.data.when_words import until as ends_at
from filterd.catalogue.model import Catalogue
from filterd.db.read import FilterdReader
from filterd.dns.wire import name_to_text
from filterd.rules.allowances import allowances
from filterd.rules.bedtime import bedtime_ends, lift_ends, next_bedtime, pause_ends
from filterd.rules.changes import limited_categories
from filterd.rules.decide import OVERALL, situation
from filterd.rules.model import OverrideKind, Profile, Rules


class Line(NamedTuple):
    text: str
    spent: bool = False  # a limit used up: shown as such, not only by colour


def what_applies(
    rules: Rules, profile: Profile, reader: FilterdReader, now: float, catalogue: Catalogue
) -> list[Line]:
    """Plain sentences: paused until, bedtime, each limit used of allowed (apps' by the
    catalogue's name), sites let through."""
    used = usage_today(reader, profile, rules, now)
    in_force = situation(profile, used, now, rules.timezone)
    lines = []
    if in_force.paused:
        until = pause_ends(profile, now)
        end = f" until {ends_at(until, rules.timezone, now)}" if until is not None else " for now"
        lines.append(Line(f"A grown-up has paused the internet on this device{end}."))
    bedtime_end = bedtime_ends(profile, now, rules.timezone)  # open now, lifted or not
    if in_force.offline:
        end = "" if bedtime_end is None else f" until {ends_at(bedtime_end, rules.timezone, now)}"
        lines.append(Line(f"It is bedtime now{end}."))
    elif bedtime_end is not None:  # bedtime now, but a grown-up lifted it
        lines.append(Line(_lifted(profile, bedtime_end, rules, now)))
    else:
        start = next_bedtime(profile, now, rules.timezone)
        if start is not None:
            lines.append(Line(f"Bedtime from {ends_at(start, rules.timezone, now)}."))
    allowed = allowances(profile, now)  # extra time included, as filterd counts it
    if allowed.overall is not None:
        spent = used.get(OVERALL, 0) >= allowed.overall
        lines.append(_limit("Time online today", used.get(OVERALL, 0), allowed.overall, spent))
    for category in limited_categories(profile):
        minutes = allowed.categories[category]
        taken = used.get(category, 0)
        label = f"Time for {time_for(category)} today"
        lines.append(_limit(label, taken, minutes, taken >= minutes))
    for app, minutes in allowed.services.items():
        if app in catalogue.services:  # the parser only lets a catalogue app have a limit
            taken = used.get(app, 0)
            label = f"Time for {catalogue.services[app].name} today"
            lines.append(_limit(label, taken, minutes, taken >= minutes))
    for override in profile.overrides:
        if override.kind is OverrideKind.ALLOW_SITE and override.active(now) and override.site:
            site = name_to_text(override.site)
            until = override.until
            end = f" until {ends_at(until, rules.timezone, now)}" if until is not None else ""
            lines.append(Line(f"You can use {site}{end}."))
    if not lines:
        lines.append(Line("No time limits or bedtime apply to this device right now."))
    return lines


def _lifted(profile: Profile, bedtime_ends: float, rules: Rules, now: float) -> str:
    """Bedtime lifted: until when, and the bedtime that follows if the lift ends first."""
    lifted_until = lift_ends(profile, now)
    ends = f"{datetime.fromtimestamp(bedtime_ends, rules.timezone):%H:%M}"  # within a night
    if lifted_until is None or lifted_until >= bedtime_ends:
        return f"Bedtime is off tonight, until {ends}."
    lifted = f"{datetime.fromtimestamp(lifted_until, rules.timezone):%H:%M}"
    return f"Bedtime is off until {lifted}, then it is bedtime until {ends}."


def _limit(label: str, used: int, allowed: int, spent: bool) -> Line:
    unit = "minute" if allowed == 1 else "minutes"
    text = f"{label}: {min(used, allowed)} of {allowed} {unit}"
    return Line(text + (" (used up)" if spent else ""), spent)


def answer_words(request: AccessRequest) -> str:
    """What the child is told about one of their requests."""
    if request.state == "approved":
        return f"Yes: allowed {request.answer}."
    if request.state == "declined":
        return "No." + (f" The grown-up said: {request.answer}" if request.answer else "")
    return "Waiting for an answer."
