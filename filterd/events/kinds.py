"""The catalogue of event kinds: a stable name, a version and a severity for each.

A kind's name never changes and its `data` keys only grow within a version; a change that
removes or renames a key is a new version, so a reader of a stream from many homes (of
different filterd releases) can tell what each event carries. README "Event log" documents them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class Severity(StrEnum):
    INFO = "info"  # worth a line in a digest
    WARNING = "warning"  # something about the box needs an adult's attention
    HIGH = "high"  # a child may be at risk: the safeguarding lead is told at once
    CRITICAL = "critical"  # illegal content: the safeguarding lead is told at once, always


class Kind(NamedTuple):
    name: str
    version: int
    severity: Severity
    summary: str  # one line, plain words, for people reading the log


BLOCK_HIGH_RISK = Kind(
    "block.high_risk", 1, Severity.HIGH, "A child's device was blocked from a high-risk site"
)
BLOCK_ILLEGAL = Kind(
    "block.illegal", 1, Severity.CRITICAL, "A device was blocked from an illegal-content site"
)
BYPASS_ATTEMPT = Kind(
    "bypass.attempt", 1, Severity.HIGH, "A device tried a VPN, proxy or encrypted-DNS service"
)
DEVICE_QUIET = Kind(
    "device.quiet",
    1,
    Severity.HIGH,
    "A child's device is on the network but has asked no DNS for 10 minutes in allowed time",
)
DEVICE_NEW = Kind("device.new", 1, Severity.INFO, "A device joined the network for the first time")
RULES_REFUSED = Kind(
    "rules.refused", 1, Severity.WARNING, "The rules file was refused; the rules in force stay"
)
RULES_SAVED = Kind(
    "rules.saved", 1, Severity.INFO, "The dashboard saved the rules file (who, what changed)"
)
RULES_EDITED_BY_HAND = Kind(
    "rules.edited_by_hand",
    1,
    Severity.WARNING,
    "The rules file was changed outside the dashboard; filterd applied it",
)
LISTS_STALE = Kind(
    "lists.stale", 1, Severity.WARNING, "Blocklists have not been refreshed when they should be"
)
LISTS_ILLEGAL_SOURCE_REMOVED = Kind(
    "lists.illegal_source_removed",
    1,
    Severity.WARNING,
    "An illegal-content list source was removed from the config",
)
UPSTREAM_ALL_FAILING = Kind(
    "upstream.all_failing", 1, Severity.WARNING, "Every upstream DNS server is failing"
)
UPSTREAM_RECOVERED = Kind(
    "upstream.recovered", 1, Severity.INFO, "An upstream DNS server answers again"
)
SELFTEST_RESULT = Kind(
    "selftest.result", 1, Severity.INFO, "The filter self-test ran (what it checked, what failed)"
)
SELFTEST_FAILED = Kind(
    "selftest.failed", 1, Severity.WARNING, "The filter self-test found something not blocked"
)
RECORDS_WITNESSED = Kind(
    "records.witnessed",
    1,
    Severity.INFO,
    "The dashboard's audit trail and reviews, newest entry (id, fingerprint), kept as a witness",
)
SELFTEST_REQUESTED = Kind(
    "selftest.requested", 1, Severity.INFO, "Someone asked for the filter self-test to run now"
)
ACCESS_REQUESTED = Kind(
    "access.requested", 1, Severity.INFO, "A child asked for access to a blocked site"
)
LIMIT_SPENT = Kind(
    "limit.spent", 1, Severity.INFO, "A child's daily time limit (overall or one kind) ran out"
)
AGREEMENT_REVIEW_DUE = Kind(
    "agreement.review_due",
    1,
    Severity.INFO,
    "A child's online-safety agreement is due for review within 7 days",
)
AGREEMENT_REVIEW_OVERDUE = Kind(
    "agreement.review_overdue",
    1,
    Severity.WARNING,
    "A child's online-safety agreement's review date has passed",
)
SYSTEM_STARTED = Kind("system.started", 1, Severity.INFO, "filterd started (the box restarted)")

# Blocks a safeguarding lead reviews: each carries the query_id of the blocked request; the
# digest and the evidence report count them and their reviews.
REVIEWED_BLOCKS: tuple[str, ...] = (BLOCK_HIGH_RISK.name, BLOCK_ILLEGAL.name, BYPASS_ATTEMPT.name)
SELFTEST_KINDS: tuple[str, ...] = (SELFTEST_RESULT.name, SELFTEST_FAILED.name)

KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        BLOCK_HIGH_RISK,
        BLOCK_ILLEGAL,
        BYPASS_ATTEMPT,
        DEVICE_QUIET,
        DEVICE_NEW,
        RULES_REFUSED,
        RULES_SAVED,
        RULES_EDITED_BY_HAND,
        LISTS_STALE,
        LISTS_ILLEGAL_SOURCE_REMOVED,
        UPSTREAM_ALL_FAILING,
        UPSTREAM_RECOVERED,
        SYSTEM_STARTED,
        ACCESS_REQUESTED,
        LIMIT_SPENT,
        SELFTEST_RESULT,
        SELFTEST_FAILED,
        AGREEMENT_REVIEW_DUE,
        AGREEMENT_REVIEW_OVERDUE,
        SELFTEST_REQUESTED,
        RECORDS_WITNESSED,
    )
}


def ignore_event(*_args, **_kwargs) -> None:
    """The event sink of a service nobody listens to (tests, command-line uses)."""
