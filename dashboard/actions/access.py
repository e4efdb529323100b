"""A carer's answer to a child's request for access (dashboard.data.access_requests).

Yes for 30 minutes, an hour or until bedtime is an `allow_site` override in the rules file:
filterd's parser checks it, filterd's decide lets the site through while it is in force, and
it ends by itself. "Always" puts the site on the child's allow list: for a site in a high-risk
category that needs the carer's own typed reason, as on the rules screens (the request is no
reason). No is a note the child sees. Each answer is audited and made once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from dashboard.actions import ActionError, Failure, saving
from dashboard.data import access_requests, audit
from dashboard.data.access_requests import AccessRequest
from dashboard.data.rules_file import add_override, edited, home_time
from filterd.rules.bedtime import next_bedtime
from filterd.rules.model import Profile
from filterd.text.people import text_problem

if TYPE_CHECKING:
    from dashboard.app import Dashboard
    from dashboard.data.accounts import User

APPROVALS = {
    "30m": "for 30 minutes",
    "1h": "for 1 hour",
    "bedtime": "until bedtime",
    "always": "always",
}


def _waiting(dashboard: Dashboard, request_id: int) -> AccessRequest:
    found = access_requests.get(dashboard.db(), request_id)
    if found is None:
        raise ActionError(Failure.NOT_FOUND, "That request is not there any more.")
    if found.state != access_requests.WAITING:
        raise ActionError(Failure.INVALID, "Someone has already answered that request.")
    return found


def choices(profile: Profile | None) -> dict[str, str]:
    """The approvals offered for one child's request: "until bedtime" only when they have one."""
    if profile is not None and profile.offline:
        return APPROVALS
    return {how: label for how, label in APPROVALS.items() if how != "bedtime"}


def approve(
    dashboard: Dashboard,
    user: User,
    request_id: int,
    how: str,
    version: str,
    now: datetime,
    reason: str = "",
) -> str:
    """Let the child reach the site as chosen; the answer in words ("for 30 minutes, until
    19:55"), which the child's page shows. `reason`: the carer's own words, which "always"
    for a high-risk site needs (ActionError REASON_NEEDED without them)."""
    wanted = _waiting(dashboard, request_id)
    if how not in APPROVALS:
        raise ActionError(Failure.INVALID, "Choose 30 minutes, 1 hour, until bedtime or always.")
    snapshot = dashboard.rules.read()
    rules = snapshot.rules
    if rules is None or wanted.child not in rules.children:
        raise ActionError(Failure.NOT_FOUND, "That child is not in the rules any more.")
    tz = rules.timezone
    profile = rules.children[wanted.child]
    raw = edited(snapshot)
    if how == "always":
        body = raw["children"][wanted.child]
        allow = list(body.get("allow") or [])
        if wanted.site not in allow:
            allow.append(wanted.site)
        body["allow"] = allow
        answer = "always"
        why = reason.strip()  # '' refused by the save when the site is high-risk
    else:
        if how == "bedtime":
            start = next_bedtime(profile, now.timestamp(), tz)
            if start is None:
                raise ActionError(
                    Failure.INVALID, f"{profile.name} has no bedtime set: choose a length instead."
                )
            until = datetime.fromtimestamp(start, tz)
        else:
            until = now.astimezone(tz) + (
                timedelta(minutes=30) if how == "30m" else timedelta(hours=1)
            )
        if until.second or until.microsecond:  # the file holds minutes: never cut it short
            until = until.replace(second=0, microsecond=0) + timedelta(minutes=1)
        override = {"kind": "allow_site", "site": wanted.site, "until": home_time(until)}
        add_override(raw, wanted.child, override, tz, now.timestamp())
        at = f"{until.astimezone(tz):%H:%M}"
        answer = f"until bedtime at {at}" if how == "bedtime" else f"{APPROVALS[how]}, until {at}"
        why = reason.strip() or f"{profile.name} asked for access"  # ends by itself
    with saving():
        dashboard.rules.save(raw, version, user, why)
    db = dashboard.db()
    access_requests.answer_request(
        db, request_id, access_requests.APPROVED, answer, user.name, now.timestamp()
    )
    detail = f"{wanted.site} {answer}"
    if reason.strip():
        detail += f"; reason: {reason.strip()}"  # the carer's own words, kept with the answer
    audit.record(db, user.name, "access.approve", wanted.child, detail)
    return answer


def decline(dashboard: Dashboard, user: User, request_id: int, note: str, now: datetime) -> None:
    """Say no, with a note the child sees on their page."""
    wanted = _waiting(dashboard, request_id)
    note = note.strip()
    if note and (problem := text_problem(note, access_requests.MAX_MESSAGE)) is not None:
        raise ActionError(Failure.INVALID, f"The note could not be saved: {problem}.")
    db = dashboard.db()
    access_requests.answer_request(
        db, request_id, access_requests.DECLINED, note, user.name, now.timestamp()
    )
    audit.record(db, user.name, "access.decline", wanted.child, f"{wanted.site}: {note}")
