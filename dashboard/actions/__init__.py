"""Every change a person makes from the dashboard, as one function each, used by both the HTML
pages and the JSON API, so both check the same things and write the same audit entry.

An action raises ActionError when it cannot be done (or FieldsRefused, see `saving`); its
`failure` says which (the page shows the message, the API answers with the matching status),
`problems` lists what filterd's parser refused. Actions never touch Flask's request: the
views read the form or the JSON body.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager

from dashboard.data.audit import MAX_FIELD
from dashboard.data.rules_file import ReasonNeeded, ReasonTooLong, Saved, StaleEdit
from filterd.rules.parse import RulesError


class Failure(enum.Enum):
    """Why an action was not done; `status` is what the API answers with."""

    INVALID = (400, "invalid")  # a missing or wrong value
    NOT_FOUND = (404, "not found")  # no such child or device
    STALE = (409, "stale")  # the rules changed since the person opened the page
    REFUSED = (422, "refused")  # filterd's parser refused the result
    REASON_NEEDED = (422, "reason needed")  # it lets a child reach a high-risk category
    REASON_TOO_LONG = (422, "reason too long")  # the reason is over MAX_REASON characters

    @property
    def status(self) -> int:
        return self.value[0]


class ActionError(Exception):
    """An action that was not done; the message is for the person."""

    def __init__(
        self,
        failure: Failure,
        message: str,
        problems: list[str] | None = None,
        field: str = "",
        child: str | None = None,
    ):
        super().__init__(message)
        self.failure = failure
        self.problems = problems or []
        self.field = field  # the form field the message belongs next to ("" for none)
        self.child = child  # the child the problems are about (a new child's made-up id)


@contextmanager
def saving() -> Iterator[None]:
    """Turn a rules save's StaleEdit and RulesError into ActionError. FieldsRefused (a part
    the person's role may not change) goes on to dashboard.web.errors, which answers 403 and
    audits the refusal the same for pages and API."""
    try:
        yield
    except StaleEdit as err:
        raise ActionError(Failure.STALE, str(err)) from None
    except ReasonNeeded as err:
        raise ActionError(Failure.REASON_NEEDED, "reason needed", err.loosened) from None
    except ReasonTooLong as err:
        raise ActionError(Failure.REASON_TOO_LONG, str(err), field="reason") from None
    except RulesError as err:
        raise ActionError(
            Failure.REFUSED, "Not saved: " + "; ".join(err.problems), err.problems
        ) from None


def changes_text(saved: Saved) -> str:
    """What a save changed, before -> after in plain words, for its audit entry. The reason
    for a loosening is kept whole: when everything would not fit the entry, the last changed
    settings are counted ("and 4 more settings") rather than the reason cut off."""
    lines = list(saved.described)
    if not lines:
        return "no change"
    text = "; ".join(lines)
    if len(text) <= MAX_FIELD or not lines[-1].startswith("reason: "):
        return text
    reason, changes = lines[-1], lines[:-1]
    dropped = 0
    while changes:
        more = f"and {dropped} more setting{'s' if dropped != 1 else ''}" if dropped else ""
        text = "; ".join([*changes, *([more] if more else []), reason])
        if len(text) <= MAX_FIELD:
            return text
        changes.pop()
        dropped += 1
    return "; ".join([f"{dropped} settings changed", reason])
