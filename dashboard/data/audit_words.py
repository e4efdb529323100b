"""The audit trail as a person reads it: each action, target and detail in plain words.

The stored rows keep their short codes ("rules.save", "(all)", a child's id): they are
hash-chained, so they are never rewritten. They are translated only when shown, with one
table of every action the dashboard records (a test checks that each one has words), child
names for child ids the rules still know, and event kinds by their summaries.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import NamedTuple

from dashboard.alerts.routing import DIGEST_LABELS
from filterd.events.kinds import KINDS

ACTION_WORDS: dict[str, str] = {
    "access.approve": "allowed a site a child asked for",
    "access.decline": "said no to a child's request for a site",
    "agreement.draft": "started a new draft of an online-safety agreement (the rules changed)",
    "agreement.print": "printed an online-safety agreement",
    "agreement.record": "recorded an online-safety agreement",
    "agreement.sign": "marked an online-safety agreement signed",
    "alerts.choose": "chose which alerts they receive",
    "backup.download": "downloaded a backup of the box",
    "child.add": "added a child",
    "child.remove": "recorded a child leaving the home",
    "child.pause": "paused a child's internet",
    "child.resume": "let a child use the internet again",
    "child.extra": "gave a child more time today",
    "child.extra_bedtime": "moved a child's bedtime later tonight",
    "child.lift_bedtime": "lifted a child's bedtime",
    "child.undo": "undid a pause, extra time or lifted bedtime",
    "device.add": "added a device",
    "device.assign": "said who uses a device",
    "device.check": "ticked an item of a device's checklist",
    "device.uncheck": "unticked an item of a device's checklist",
    "device.record": "updated a device's record",
    "device.remove": "removed a device",
    "device.rename": "renamed a device",
    "devices.unknown": "chose how devices nobody has assigned are filtered",
    "everyone.pause": "paused every child's internet",
    "everyone.resume": "let every child use the internet again",
    "export": "exported the blocked log",
    "login": "logged in",
    "login.failed": "failed to log in",
    "login.locked": "was slowed down after failed log-ins",
    "login.password": "gave the right password (two-factor code next)",
    "logout": "logged out",
    "practitioner.view": "(a visiting practitioner) opened a page",
    "refused": "was refused",
    "report.evidence": "downloaded the monthly evidence report",
    "restored from backup": "restored the box from a backup",
    "review": "reviewed blocked requests",
    "rules.hand_edit": "rules file changed by hand",
    "rules.save": "changed rules",
    "selftest.run": "ran the filter self-test",
    "session.end": "ended a signed-in session",
    "setup.timezone": "set the home's time zone",
    "setup_code.failed": "typed a wrong set-up code",
    "setup_code.locked": "was slowed down after wrong set-up codes",
    "user.add": "added an account",
    "user.delete": "deleted an account",
    "user.disable": "stopped an account logging in",
    "user.enable": "let an account log in again",
    "user.password": "changed their password",
    "user.password_reset": "reset an account's password",
    "user.role": "changed an account's role",
    "user.two_factor_off": "turned two-factor sign-in off",
    "user.two_factor_on": "turned two-factor sign-in on",
}
TARGET_WORDS = {"(all)": "all children", "rules file": "the rules file"}
KIND_WORDS = {
    **{name: kind.summary for name, kind in KINDS.items()},
    **dict(DIGEST_LABELS),
}
# Pages a refused request was for, by the first part of its path.
PAGES = {
    "children": "a child's rules",
    "devices": "the devices",
    "people": "the accounts",
    "audit": "the audit trail",
    "blocked": "the blocked log",
    "health": "Health",
    "reports": "the evidence report",
    "account": "their account",
    "setup": "set-up",
    "backup": "backups",
}
MONTH = re.compile(r"\d{4}-\d{2}").fullmatch


class Shown(NamedTuple):
    action: str
    target: str
    detail: str


def shown(action: str, target: str, detail: str, names: dict[str, str], user: str = "") -> Shown:
    """One stored row in words; `names`: child ids to the names the rules give them; `user`:
    who did it (a target that only repeats them is left out)."""
    words = ACTION_WORDS.get(action, action.replace(".", " ").replace("_", " "))
    if target == user:
        target = ""
    if action == "refused":
        return Shown(words, _refused(target, names), detail)
    if action == "report.evidence" and MONTH(target):
        target = f"{datetime.strptime(target, '%Y-%m'):%B %Y}"
    elif action == "alerts.choose":
        detail = "; ".join(KIND_WORDS.get(k, k) for k in detail.split(", ")) if detail else ""
    target = TARGET_WORDS.get(target, names.get(target, target))
    return Shown(words, target, detail)


def _refused(target: str, names: dict[str, str]) -> str:
    """ "POST /children/mia-jones/blocked" as "a change to a child's rules for Mia Jones"."""
    method, _, path = target.partition(" ")
    parts = [p for p in path.split("/") if p and p != "api"]
    if not parts:
        return target
    page = PAGES.get(parts[0], "a page")
    who = [names[p] for p in parts[1:] if p in names]
    doing = "opening" if method in ("GET", "HEAD") else "a change to"
    return f"{doing} {page}" + (f" for {who[0]}" if who else "")
