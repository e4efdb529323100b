"""The policy stage alone, above a fake next stage, with real lists and a real rules file:
household devices and children's devices go through the same precedence table."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from dnslib import DNSRecord

from filterd.db.usage_status import UsageStatusDb
from filterd.dns.block_answers import BlockStyle
from filterd.dns.query import Reason, Reply
from filterd.lists.categories import mask_of
from filterd.lists.service import Blocklists
from filterd.lists.settings import BlockedAnswer, BlocklistSettings, ListsUpdate
from filterd.lists.update import build_index
from filterd.policy.policy_stage import PolicyStage
from filterd.rules.decide import ALLOWED, HOUSEHOLD, NOTHING_IN_FORCE, judge
from filterd.rules.service import RulesService
from tests.support.stages import MovableClock, NextStage, query_of, reply_to, settle

LISTS = {
    "malware_phishing.txt": "phish.example\n",  # in the household floor by default
    "gambling.txt": "bet.example\n",  # a child's category, not the household's
    "helplines.txt": "childline.example\n",
}
RULES = """\
timezone: Europe/London
unknown_devices: household
children:
  sam:
    name: Sam
    age_band: 9_12
    deny: [denied.example]
    offline: []
devices:
  - {ip: 192.168.1.20, name: Sam's tablet, owner: sam}
  - {ip: 192.168.1.99, name: Carer's laptop, owner: none}
end_of_rules: true
"""
SAM = "192.168.1.20"
GUEST = "192.168.1.99"


@pytest.fixture
def stage_and_below(tmp_path: Path):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    for name, text in LISTS.items():
        (shipped / name).write_text(text)
    settings = BlocklistSettings(
        lists_update=ListsUpdate(directory=tmp_path / "lists", shipped=shipped)
    )
    build_index(settings, online=False)
    lists = Blocklists(settings, None)
    lists.load()
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(RULES)
    clock = MovableClock()
    rules = RulesService(rules_file, UsageStatusDb(tmp_path / "filterd.db"), clock)
    rules.load()
    below = NextStage()
    return PolicyStage(below, lists, rules, clock), below


def ede(reply: Reply) -> tuple[int, str] | None:
    for rr in DNSRecord.parse(reply.wire).ar:
        if rr.rtype == 41:
            for option in rr.rdata:
                if option.code == 15:
                    return struct.unpack("!H", option.data[:2])[0], option.data[2:].decode()
    return None


def test_a_household_device_is_passed_down_untouched_for_a_name_in_no_category(stage_and_below):
    stage, below = stage_and_below
    query = query_of("news.example", client=GUEST)
    reply = stage(query)
    assert below.seen == [query]
    assert reply == reply_to(query)  # nothing added: no child, no category


def test_the_household_floor_blocks_for_every_device_with_the_same_words(stage_and_below):
    stage, below = stage_and_below
    guest = stage(query_of("phish.example", client=GUEST, edns=True))
    child = stage(query_of("phish.example", client=SAM, edns=True))
    assert below.seen == []  # answered here, even with every upstream down
    for reply in (guest, child):
        assert reply.reason is Reason.BLOCKED
        assert ede(reply) == (15, "blocked: malware_phishing")
        assert DNSRecord.parse(reply.wire).rr[0].rdata.toZone() == "0.0.0.0"
    assert (guest.child, child.child) == ("", "sam")


def test_a_childs_own_rules_block_only_the_child(stage_and_below):
    stage, below = stage_and_below
    denied = stage(query_of("denied.example", client=SAM, edns=True))
    assert denied.reason is Reason.DENIED and ede(denied) == (17, "on this child's deny list")
    betting = stage(query_of("bet.example", client=SAM, edns=True))
    assert betting.reason is Reason.BLOCKED and ede(betting) == (17, "blocked: gambling")
    assert below.seen == []
    guest = stage(query_of("bet.example", client=GUEST))
    assert guest.reason is Reason.FORWARDED  # the household does not block gambling...
    assert guest.categories == mask_of(["gambling"])  # ...but the log says what it is
    assert len(below.seen) == 1


def test_a_helpline_passes_for_everyone_and_is_marked_so_it_is_never_logged(stage_and_below):
    stage, below = stage_and_below
    for client in (GUEST, SAM):
        reply = settle(stage(query_of("childline.example", client=client)))
        assert reply.reason is Reason.HELPLINE
    assert len(below.seen) == 2


def test_a_childs_answer_from_upstream_is_capped_and_marked_with_the_child(stage_and_below):
    """The first query of a minute counts usage, which makes the child's situation be worked
    out again: the answer that comes back later must still get a real cap, not 0."""
    stage, below = stage_and_below
    below.later = True
    below.answer = lambda q: reply_to(q, ttl=86_400)
    reply = settle(stage(query_of("news.example", client=SAM)))
    assert reply.child == "sam"
    ttl = DNSRecord.parse(reply.wire).rr[0].ttl
    assert 0 < ttl < 86_400  # capped at the next change of Sam's rules, never 0
    guest = settle(stage(query_of("news.example", client=GUEST)))
    assert DNSRecord.parse(guest.wire).rr[0].ttl == 86_400 and guest.child == ""


def test_a_name_in_no_category_is_allowed_by_the_table_for_a_household_device():
    """Why policy may skip judge for a household device when the name is in no category."""
    for floor in (0, mask_of(["illegal", "malware_phishing"]), -1):
        assert judge(b"\x04news\x07example\x00", 0, HOUSEHOLD, NOTHING_IN_FORCE, floor) is ALLOWED


def test_a_child_with_no_answer_style_of_their_own_gets_the_homes_block_page(tmp_path: Path):
    """An installed box answers blocked names with the block page (the settings' style): a
    child whose rules name no style of their own sees it too; one whose carer chose null_ip
    keeps the null address."""
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    for name, text in LISTS.items():
        (shipped / name).write_text(text)
    settings = BlocklistSettings(
        lists_update=ListsUpdate(directory=tmp_path / "lists", shipped=shipped),
        blocked_answer=BlockedAnswer(style=BlockStyle.BLOCK_PAGE, ipv4="192.168.1.2"),
    )
    build_index(settings, online=False)
    lists = Blocklists(settings, None)
    lists.load()
    rules_file = tmp_path / "rules.yaml"
    chosen = (
        "  kit:\n    name: Kit\n    age_band: 9_12\n    offline: []\n    blocked_answer: null_ip\n"
    )
    kits = "  - {ip: 192.168.1.21, name: Kit's phone, owner: kit}\n"
    text = RULES.replace("devices:\n", f"{chosen}devices:\n{kits}")
    rules_file.write_text(text)
    clock = MovableClock()
    rules = RulesService(rules_file, UsageStatusDb(tmp_path / "filterd.db"), clock)
    rules.load()
    stage = PolicyStage(NextStage(), lists, rules, clock)

    def answer(client: str) -> str:
        reply = stage(query_of("bet.example", client=client, edns=True))
        assert reply.reason is Reason.BLOCKED and ede(reply) == (17, "blocked: gambling")
        return DNSRecord.parse(reply.wire).rr[0].rdata.toZone()

    assert answer(SAM) == "192.168.1.2"  # the block page, which says why and who can help
    assert answer("192.168.1.21") == "0.0.0.0"  # what Kit's carer chose stays
