"""The catalogue of event kinds: a stable name, a version and a severity for each.

A kind's name never changes and its `data` keys only grow within a version; a change that
removes or renames a key is a new version, so a reader of a stream from many homes (of
different filterd releases) can tell what each event carries. README "Event log" documents them.

Adding a kind: a row in KINDS (and a constant below), a row in README's "Event log" table, and
in dashboard/alerts/routing.py either the role set that is told of it or NOT_ALERTED with why;
tests/unit/test_event_kinds_routed.py fails until both are done.
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


# The catalogue, one row a kind: (name, severity, summary); every kind is at version 1 so far.
KINDS: dict[str, Kind] = {
    name: Kind(name, 1, severity, summary)
    for name, severity, summary in (
        ("block.high_risk", Severity.HIGH, "A child's device was blocked from a high-risk site"),
        ("block.illegal", Severity.CRITICAL, "A device was blocked from an illegal-content site"),
        ("bypass.attempt", Severity.HIGH, "A device tried a VPN, proxy or encrypted-DNS service"),
        (
            "device.quiet",
            Severity.HIGH,
            "A child's device is on the network but has asked no DNS for 10 minutes in allowed"
            " time",
        ),
        ("device.new", Severity.INFO, "A device joined the network for the first time"),
        ("rules.refused", Severity.WARNING, "The rules file was refused; the rules in force stay"),
        ("rules.saved", Severity.INFO, "The dashboard saved the rules file (who, what changed)"),
        (
            "rules.edited_by_hand",
            Severity.WARNING,
            "The rules file was changed outside the dashboard; filterd applied it",
        ),
        ("lists.stale", Severity.WARNING, "Blocklists have not been refreshed when they should be"),
        (
            "lists.illegal_source_removed",
            Severity.WARNING,
            "An illegal-content list source was removed from the config",
        ),
        ("upstream.all_failing", Severity.WARNING, "Every upstream DNS server is failing"),
        ("upstream.recovered", Severity.INFO, "An upstream DNS server answers again"),
        (
            "selftest.result",
            Severity.INFO,
            "The filter self-test ran (what it checked, what failed)",
        ),
        ("selftest.failed", Severity.WARNING, "The filter self-test found something not blocked"),
        (
            "records.witnessed",
            Severity.INFO,
            "The dashboard's audit trail and reviews, newest entry (id, fingerprint), kept as a"
            " witness",
        ),
        ("selftest.requested", Severity.INFO, "Someone asked for the filter self-test to run now"),
        ("access.requested", Severity.INFO, "A child asked for access to a blocked site"),
        ("limit.spent", Severity.INFO, "A child's daily time limit (overall or one kind) ran out"),
        (
            "agreement.review_due",
            Severity.INFO,
            "A child's online-safety agreement is due for review within 7 days",
        ),
        (
            "agreement.review_overdue",
            Severity.WARNING,
            "A child's online-safety agreement's review date has passed",
        ),
        ("system.started", Severity.INFO, "filterd started (the box restarted)"),
    )
}
BLOCK_HIGH_RISK = KINDS["block.high_risk"]
BLOCK_ILLEGAL = KINDS["block.illegal"]
BYPASS_ATTEMPT = KINDS["bypass.attempt"]
DEVICE_QUIET = KINDS["device.quiet"]
DEVICE_NEW = KINDS["device.new"]
RULES_REFUSED = KINDS["rules.refused"]
RULES_SAVED = KINDS["rules.saved"]
RULES_EDITED_BY_HAND = KINDS["rules.edited_by_hand"]
LISTS_STALE = KINDS["lists.stale"]
LISTS_ILLEGAL_SOURCE_REMOVED = KINDS["lists.illegal_source_removed"]
UPSTREAM_ALL_FAILING = KINDS["upstream.all_failing"]
UPSTREAM_RECOVERED = KINDS["upstream.recovered"]
SELFTEST_RESULT = KINDS["selftest.result"]
SELFTEST_FAILED = KINDS["selftest.failed"]
RECORDS_WITNESSED = KINDS["records.witnessed"]
SELFTEST_REQUESTED = KINDS["selftest.requested"]
ACCESS_REQUESTED = KINDS["access.requested"]
LIMIT_SPENT = KINDS["limit.spent"]
AGREEMENT_REVIEW_DUE = KINDS["agreement.review_due"]
AGREEMENT_REVIEW_OVERDUE = KINDS["agreement.review_overdue"]
SYSTEM_STARTED = KINDS["system.started"]

# Blocks a safeguarding lead reviews: each carries the query_id of the blocked request; the
# digest and the evidence report count them and their reviews.
REVIEWED_BLOCKS: tuple[str, ...] = (BLOCK_HIGH_RISK.name, BLOCK_ILLEGAL.name, BYPASS_ATTEMPT.name)
SELFTEST_KINDS: tuple[str, ...] = (SELFTEST_RESULT.name, SELFTEST_FAILED.name)


def ignore_event(*_args, **_kwargs) -> None:
    """The event sink of a service nobody listens to (tests, command-line uses)."""
