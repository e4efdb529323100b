"""A name on the essential list is never given an app's category (issue 16, check16).

The config's `essential` names (a school's own platform) and the shipped essential list lose
every list category but illegal; before this check an app's category was added back after
that, so a home that made chatgpt.com essential (a school's ChatGPT Edu) still had it blocked
wherever `ai_chat` is blocked. A carer's choice for the app by name still applies.
"""

from __future__ import annotations

import struct
from pathlib import Path

from filterd.clock import SystemClock
from filterd.config import parse_config
from filterd.db.usage_status import UsageStatusDb
from filterd.dns.query import Query, Reason, Reply, Transport
from filterd.dns.wire import text_to_wire
from filterd.lists.service import Blocklists
from filterd.policy.policy_stage import PolicyStage
from filterd.rules.service import RulesService

ANSWERED = Reply(b"answered", 0, Reason.FORWARDED, False)


def query_for(name: str) -> Query:
    """An A question for `name` from a household device, as the admission stage passes it."""
    qname = text_to_wire(name)
    question = qname + struct.pack(">HH", 1, 1)
    return Query(
        "127.0.0.9", Transport.UDP, 1, 0x0100, qname, 1, 1, question, None, 0.0, question, 512
    )


def _stage(tmp_path: Path, essential: list[str]) -> tuple[PolicyStage, Blocklists]:
    config = parse_config(
        "listen: ['127.0.0.1:53']\nupstreams: ['127.0.0.1:1']\n"
        f"database: '{tmp_path / 'filterd.db'}'\n"
        f"lists_update: {{directory: '{tmp_path / 'lists'}'}}\n"
        "block_categories: [illegal, ai_chat]\n"
        f"essential: {essential!r}\n"
    )
    lists = Blocklists(config.blocklists, None)
    lists.load()
    rules = RulesService(None, UsageStatusDb(tmp_path / "state.db"), SystemClock())
    return PolicyStage(lambda query: ANSWERED, lists, rules, SystemClock()), lists


def test_an_essential_name_is_answered_though_its_app_category_is_blocked(tmp_path):
    stage, lists = _stage(tmp_path, ["chatgpt.com"])
    try:
        reply = stage(query_for("chatgpt.com"))
        assert reply.wire == b"answered", "an essential name must never be blocked by a category"
        assert reply.service == "chatgpt", "the log still names the app"
        other = stage(query_for("sora.com"))  # the same app's other names stay blocked
        assert other.wire != b"answered"
    finally:
        lists.store.close()


def test_without_the_essential_entry_the_app_is_blocked_by_its_category(tmp_path):
    stage, lists = _stage(tmp_path, [])
    try:
        assert stage(query_for("chatgpt.com")).wire != b"answered"
    finally:
        lists.store.close()
