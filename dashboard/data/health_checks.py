"""Health in plain words: each check of the box says what is true now and what to do about it.

Read from what filterd records about itself in filterd.db (its heartbeat, the rules and clock
status rows, through FilterdReader) and from the filesystem holding filterd.db. The Health page
shows every check; the home page's banner shows those that are wrong and stop filtering or
bedtime from working (`stops_filtering`). No raw value reaches the page: times are in the
home's zone or "N minutes ago", and filterd's refusals are said as every page says them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dashboard.data import rules_errors
from dashboard.data.alert_outbox import Stuck
from dashboard.data.when_words import ago, stamp
from filterd.db.read import FilterdReader

# filterd writes its heartbeat every 5 s (filterd.events.heartbeat): six missed is not a
# slow disk, it is a daemon that has stopped answering.
HEARTBEAT_STALE = 30.0
SERVFAIL_WARN_SHARE = 0.10  # of the last five minutes' answers...
SERVFAIL_WARN_MIN = 5  # ...and at least this many: one failed name is not an outage
RESTART_FILTERD = (
    "Turn the box off and on again. If that does not help, an administrator can run"
    " “sudo systemctl restart filterd” on the box and look at “journalctl -u filterd”."
)


@dataclass(frozen=True, slots=True)
class Check:
    """One line of Health: `state` is ok, warning or problem."""

    key: str  # the element id on the page
    title: str
    state: str
    said: str
    todo: str = ""
    stops_filtering: bool = False  # shown in the home page's banner while not ok

    @property
    def ok(self) -> bool:
        return self.state == "ok"


class Clock:
    """Times as the home reads them."""

    def __init__(self, tz: ZoneInfo, now: float) -> None:
        self.tz, self.now = tz, now

    def at(self, ts: float) -> str:
        return stamp(ts, self.tz, self.now)

    def full(self, ts: float) -> str:
        return datetime.fromtimestamp(ts, self.tz).strftime("%Y-%m-%d %H:%M")


def dns_check(beat: dict | None, clock: Clock) -> Check:
    title = "Filtering (DNS)"
    if beat is None:
        return Check(
            "dns",
            title,
            "problem",
            "Not answering: filterd has never reported from this box, so devices here are not"
            " being filtered.",
            RESTART_FILTERD,
            True,
        )
    updated = float(beat["updated"])
    if beat.get("stopped"):
        said = f"Not answering: filterd was stopped at {clock.at(updated)}."
    elif clock.now - updated > HEARTBEAT_STALE:
        said = f"Not answering: filterd last reported {ago(clock.now - updated)}."
    else:
        return Check("dns", title, "ok", f"Answering: filterd reported {ago(clock.now - updated)}.")
    return Check(
        "dns",
        title,
        "problem",
        said + " Devices cannot look up sites, and nothing is filtered or logged.",
        RESTART_FILTERD,
        True,
    )


def upstream_check(beat: dict | None, clock: Clock) -> Check:
    """Which upstream is down, and the share of failed answers in the last five minutes."""
    title = "Internet lookups (upstream servers)"
    if beat is None or beat.get("stopped") or clock.now - beat["updated"] > HEARTBEAT_STALE:
        return Check("upstreams", title, "warning", "Unknown while filterd is not answering.")
    upstreams = [u for u in beat.get("upstreams", []) if isinstance(u, dict)]
    down = [u for u in upstreams if u.get("state") != "answering"]
    answers, failed = int(beat.get("answers_5min", 0)), int(beat.get("servfail_5min", 0))
    share = failed / answers if answers else 0.0
    failures = (
        f"In the last 5 minutes {failed} of {answers} answers ({share:.0%}) were failures."
        if answers
        else "No lookups in the last 5 minutes."
    )
    lines = [f"{u.get('name', '?')} {_upstream_words(u.get('state', ''))}." for u in down]
    if upstreams and len(down) == len(upstreams):
        return Check(
            "upstreams",
            title,
            "problem",
            "No upstream server is working, so new sites cannot be looked up (blocked sites"
            " stay blocked). " + " ".join(lines) + " " + failures,
            "Check the box's network cable and that the router has internet. If the internet"
            " works, the upstream servers in the box's settings file may be wrong or down: an"
            " administrator can change them.",
            True,
        )
    if down:
        return Check(
            "upstreams",
            title,
            "warning",
            " ".join(lines) + " The other servers are answering for it. " + failures,
            "Nothing is needed today. If it stays down, an administrator can replace it in the"
            " box's settings file.",
        )
    if answers and failed >= SERVFAIL_WARN_MIN and share >= SERVFAIL_WARN_SHARE:
        return Check(
            "upstreams",
            title,
            "warning",
            "Every upstream server is answering, but some sites failed to look up. " + failures,
            "Usually one site's own fault. If it goes on, check the router's internet.",
        )
    working = ", ".join(u.get("name", "?") for u in upstreams) or "none set"
    return Check("upstreams", title, "ok", f"Working: {working}. {failures}")


def _upstream_words(state: str) -> str:
    if state == "servfail":
        return "answers, but fails to look up every site"
    return "is not answering"


def rules_check(status: dict | None, names: Mapping[str, str], clock: Clock) -> Check:
    title = "Rules"
    if status is None:
        return Check("rules", title, "warning", "filterd has not reported on the rules yet.")
    if status.get("ok"):
        when = status.get("checked") or status.get("updated")
        said = "In force: filterd loaded the rules as saved"
        return Check("rules", title, "ok", said + (f" ({clock.at(when)})." if when else "."))
    return Check(
        "rules",
        title,
        "problem",
        "Refused: filterd did not accept the last change to the rules file, so the rules"
        " from before it stay in force (changes since, pauses and extra time too, are not).",
        "Open the child's page and save their rules again. If the file was edited by hand,"
        " put right what is listed here, or restore the last backup.",
        True,
    )


def refused_problems(status: dict | None, names: Mapping[str, str]) -> list[str]:
    """Why filterd refused the rules file, in the words every page uses (dashboard.data.
    rules_errors, one table), naming the child where the problem is in a child's part."""
    if not status or status.get("ok"):
        return []
    return rules_errors.for_file([str(p) for p in status.get("problems", [])], names)


def disk_check(database: Path, warning_mb: int, statvfs: Callable = os.statvfs) -> Check:
    """Free space of the filesystem holding filterd.db (the query log grows there)."""
    title = "Storage"
    folder = database.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        stats = statvfs(folder)
    except OSError:
        return Check("disk", title, "warning", "The box's free space could not be read.")
    free_mb = stats.f_bavail * stats.f_frsize / 1_000_000
    total_mb = stats.f_blocks * stats.f_frsize / 1_000_000 or 1
    said = f"{_size(free_mb)} free of {_size(total_mb)}."
    if free_mb < warning_mb / 10:
        return Check(
            "disk",
            title,
            "problem",
            f"Nearly full: {said} The history of sites visited is about to stop being kept,"
            " and usage limits may stop counting.",
            "Shorten how long the history is kept, delete old backups from the box, or move"
            " to a larger memory card.",
            True,
        )
    if free_mb < warning_mb:
        return Check(
            "disk",
            title,
            "warning",
            f"Getting full: {said}",
            "Shorten how long the history is kept or delete old backups from the box soon.",
        )
    return Check("disk", title, "ok", f"Enough space: {said}")


def _size(mb: float) -> str:
    return f"{mb / 1000:.1f} GB" if mb >= 1000 else f"{mb:.0f} MB"


def log_check(beat: dict | None, clock: Clock) -> Check:
    """Query-log entries filterd could not write (it counts them rather than slow DNS)."""
    title = "History of sites visited"
    if beat is None:
        return Check("log", title, "warning", "filterd has not reported yet.")
    dropped = int(beat.get("log_dropped", 0))
    started = clock.at(float(beat.get("started", beat["updated"])))
    if not dropped:
        said = f"Every lookup recorded since filterd started ({started})."
        return Check("log", title, "ok", said)
    last = beat.get("log_last_drop")
    latest = f", the latest at {clock.at(float(last))}" if last else ""
    return Check(
        "log",
        title,
        "warning",
        f"{dropped} lookup{'' if dropped == 1 else 's'} could not be recorded since filterd"
        f" started ({started}){latest}. Filtering went on; only the history has gaps.",
        "Check the storage line above: a full or failing memory card is the usual cause. If"
        " space is fine, restart the box.",
    )


def clock_check(status: dict | None, clock: Clock) -> Check:
    """Whether bedtimes follow a time server's time (filterd.rules.trusted_time)."""
    title = "Clock"
    todo = "Check the box can reach the internet (time servers use port 123)."
    if not status:
        return Check("clock", title, "warning", "filterd has not reported on the clock yet.")
    if status.get("synchronised"):
        return Check("clock", title, "ok", "set by a time server: bedtimes and limits follow it.")
    if status.get("using") == "last_good":
        said = (
            f"not set by a time server: the box's clock said {clock.full(status['system_time'])},"
            " which is earlier than the last time known to be right. Until a time server sets"
            " it, bedtimes and limits follow that last good time, moved on by the box's own"
            f" timer (it was {clock.full(status['rules_time'])})."
        )
    else:
        said = (
            "not set by a time server: bedtimes and limits follow the box's own clock"
            f" ({clock.full(status['system_time'])} when filterd last checked), which nothing"
            " has confirmed."
        )
    return Check("clock", title, "problem", said, todo, True)


URGENT_WAIT = 5 * 60  # a high-risk or illegal alert unsent this long: the home page says so


def alerts_check(stuck: Stuck | None, clock: Clock) -> Check:
    """Whether alerts are going out; if not, why in plain words and since when. The home
    page's banner says it too while a high-risk or illegal alert waits over URGENT_WAIT."""
    title = "Alerts (email and webhooks)"
    if stuck is None:
        return Check("alerts", title, "ok", "Going out: no alert is waiting after a failed try.")
    urgent = stuck.urgent_since is not None and clock.now - stuck.urgent_since > URGENT_WAIT
    messages = f"{stuck.waiting} alert{'' if stuck.waiting == 1 else 's'}"
    said = (
        f"Not going out: {messages} could not be sent, the oldest waiting since"
        f" {clock.at(stuck.since)} ({ago(clock.now - stuck.since)}). "
        + " ".join(_send_failure(channel, error) for channel, error in stuck.failures)
    )
    if urgent:
        said += " A high-risk or illegal-content alert is among those waiting."
    todo = " ".join(_send_todo(channel) for channel, _ in stuck.failures)
    todo += " The alerts are tried again by themselves and none is lost."
    return Check("alerts", title, "problem", said, todo, urgent)


def _send_failure(channel: str, error: str) -> str:
    """The sender's error said in plain words (never the raw text: it may name paths)."""
    error = error.lower()
    if channel == "webhook":
        if "can be read by other users" in error:
            return (
                "The webhook's secret file is refused because other users on the box can read it."
            )
        if "cannot be read" in error:
            return "The webhook's secret file cannot be read."
        if "no longer configured" in error:
            return "The webhook it was for is no longer in the settings."
        if "http" in error and "answered" in error:
            return "The webhook's receiver answered with an error."
        return "The webhook's receiver could not be reached."
    if "no mail server" in error:
        return "No email server is set in the box's settings."
    if "authentication" in error or "535" in error or "password" in error:
        return "The email server refused the box's user name or password."
    if "refused" in error or "timed out" in error or "unreachable" in error or "errno" in error:
        return "The email server could not be reached."
    return "The email server did not accept them."


def _send_todo(channel: str) -> str:
    if channel == "webhook":
        return (
            "An administrator should check the webhook in the box's settings file (its"
            " secret file must be readable by the dashboard only)."
        )
    return (
        "Check the box can reach the email server, and its name, port and password in the"
        " box's settings file."
    )


def records_check(reader: FilterdReader) -> Check | None:
    """filterd.db itself cannot be read (damaged by a power cut or a full disk): every page
    still opens, empty, and Health says why and what to do (None when it reads). Likewise a
    file an older filterd wrote, until filterd upgrades it when it next starts."""
    if reader.not_upgraded is not None and not reader.damaged:
        return Check(
            "records",
            "filterd's records",
            "problem",
            "filterd has not upgraded the file where it keeps its records (filterd.db) to this"
            " version yet. Pages show no activity, blocked sites or checks until it has.",
            "Start filterd (or restart it): it upgrades the file when it starts, keeping"
            " every record.",
            False,
        )
    if not reader.damaged:
        return None
    return Check(
        "records",
        "filterd's records",
        "problem",
        "The file where filterd keeps its records (filterd.db) cannot be read: it is damaged."
        " Pages show no activity, blocked sites or checks until it is replaced.",
        "Restore last night's backup (filterd restore), or stop filterd, move filterd.db"
        " aside and start filterd again to begin a new one.",
        False,
    )


def health_checks(
    reader: FilterdReader,
    database: Path,
    disk_warning_mb: int,
    names: Mapping[str, str],
    clock: Clock,
    alerts: Stuck | None = None,
) -> list[Check]:
    """Every check, in the order Health shows them (`alerts`: alert_outbox.stuck)."""
    beat = reader.heartbeat()
    damaged = records_check(reader)
    return [
        *([damaged] if damaged else []),
        dns_check(beat, clock),
        upstream_check(beat, clock),
        rules_check(reader.rules_status(), names, clock),
        clock_check(reader.clock_status(), clock),
        disk_check(database, disk_warning_mb),
        log_check(beat, clock),
        alerts_check(alerts, clock),
    ]
