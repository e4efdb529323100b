"""What each Reason means lives beside it (filterd/dns/query.py), and every table keyed by
Reason covers the reasons it must: a Reason added to BLOCKING_REASONS fails here until it has a
carer's label, a child's sentence and, if a child cannot ask about it, a "not now" message."""

from __future__ import annotations

from dashboard.child_side import app as child_app
from dashboard.child_side import why
from dashboard.data import blocked_log
from filterd.dns.query import (
    ASKABLE_REASONS,
    BLOCK_LABELS,
    BLOCKING_REASONS,
    ROUTINE_REASONS,
    Reason,
)


def test_the_reason_sets_are_kinds_of_block():
    assert set(BLOCKING_REASONS) >= ASKABLE_REASONS
    assert set(BLOCKING_REASONS) >= ROUTINE_REASONS
    assert len(set(BLOCKING_REASONS)) == len(BLOCKING_REASONS)


def test_every_blocking_reason_has_a_carers_label():
    assert set(BLOCK_LABELS) == set(BLOCKING_REASONS)
    assert set(blocked_log.REASONS) == {str(r) for r in BLOCKING_REASONS}


def test_every_reason_a_block_page_shows_has_a_sentence_for_the_child():
    assert set(why.SENTENCES) == set(BLOCKING_REASONS)


def test_every_reason_a_child_cannot_ask_about_has_a_not_now_message():
    assert set(child_app.NOT_NOW) == set(BLOCKING_REASONS) - ASKABLE_REASONS


def test_the_sets_are_what_the_pages_decide_by():
    """Asking and routine rows follow query.py's sets as they were (behaviour unchanged)."""
    assert {str(r) for r in ASKABLE_REASONS} == {"blocked", "denied", "walled_garden", "limit"}
    assert {str(r) for r in ROUTINE_REASONS} == {"limit", "offline", "paused"}
    assert blocked_log.ROUTINE_REASONS is ROUTINE_REASONS
    # A reason given as the plain text the query log keeps finds its sentence and message.
    assert why.SENTENCES.get("denied") is why.SENTENCES[Reason.DENIED]
    assert child_app.NOT_NOW.get("offline") == child_app.NOT_NOW[Reason.OFFLINE]


def _sentence(reason: str, categories: tuple[str, ...] = (), app: str = "") -> str:
    """The child's sentence for a reason whose words need no profile or clock."""
    return why._sentence(reason, categories, app, None, None, 0.0, None)  # type: ignore[arg-type]


def test_the_childs_words_stay_as_they_were():
    assert (
        _sentence("denied")
        == "A grown-up who looks after you has chosen to block this site for you."
    )
    assert (
        _sentence("walled_garden")
        == "On this device you can only visit the sites a grown-up has chosen for you."
    )
    anything = "The people who look after you have chosen to block this site on this Wi-Fi."
    assert _sentence("blocked") == anything  # no app, no category with words
    assert _sentence("") == anything  # no reason known yet
    assert _sentence("not_a_reason") == anything
    assert _sentence("blocked", app="TikTok") == "TikTok is blocked for you on this Wi-Fi."
