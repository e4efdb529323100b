"""Child profiles end to end: filterd on loopback, each child's devices on their own 127.x address.

The daemon's wall clock is moved through $FILTERD_CLOCK_FILE (an offset in seconds), so
bedtime, limits and expiries are crossed in seconds; DNS itself runs on real time.
"""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from dnslib import DNSRecord

from filterd.rules.guards import with_end_line
from tests.support.dns_client import make_query, udp_exchange
from tests.support.filterd_process import FilterdProcess, wait_for
from tests.support.lists import ede_codes, write_lists
from tests.support.query_log import logged

LONDON = ZoneInfo("Europe/London")
SAM = "127.0.0.2"  # 9_12: social blocked, bedtime 20:30 on school nights
ALEX = "127.0.0.3"  # 13_15: social allowed
ALEX_LAPTOP = "127.0.0.4"
CARER = "127.0.0.5"  # owner: none
STRANGER = "127.0.0.99"  # not listed: the strict profile
NULL = ["0.0.0.0"]
FILTERED = 17


def london(text: str) -> float:
    """Epoch seconds of a wall-clock time in Europe/London."""
    return datetime.fromisoformat(text).replace(tzinfo=LONDON).timestamp()


def base_rules() -> dict:
    return {
        "timezone": "Europe/London",
        "children": {
            "sam": {
                "name": "Sam",
                "age_band": "9_12",
                "always_allow": ["school.example"],
            },
            "alex": {"name": "Alex", "age_band": "13_15"},
        },
        "devices": [
            {"ip": SAM, "name": "Sam's tablet", "owner": "sam"},
            {"ip": ALEX, "name": "Alex's phone", "owner": "alex"},
            {"ip": ALEX_LAPTOP, "name": "Alex's laptop", "owner": "alex"},
            {"ip": CARER, "name": "Carer's phone", "owner": "none"},
        ],
    }


class Home:
    """A running filterd with a rules file and a movable wall clock."""

    def __init__(self, filterd: FilterdProcess, rules_path: Path, clock_path: Path) -> None:
        self.filterd = filterd
        self.rules_path = rules_path
        self.clock_path = clock_path

    def write_rules(self, rules: dict | str) -> None:
        text = rules if isinstance(rules, str) else with_end_line(yaml.safe_dump(rules))
        temporary = self.rules_path.with_suffix(".tmp")
        temporary.write_text(text)
        temporary.replace(self.rules_path)  # as the dashboard writes it

    def set_time(self, when: str) -> None:
        """Move the daemon's wall clock to a Europe/London time; wait until it has moved."""
        self.clock_path.write_text(str(london(when) - time.time()))
        time.sleep(0.7)  # the daemon re-reads the clock file twice a second

    def ask(self, source: str, name: str, qtype: str = "A") -> DNSRecord:
        query = make_query(name, qtype, edns=True)
        raw = udp_exchange(self.filterd.port, query.pack(), source=source)
        assert raw is not None, f"no answer to {name} from {source}"
        return DNSRecord.parse(raw)


def addresses(reply: DNSRecord) -> list[str]:
    return [str(rr.rdata) for rr in reply.rr if rr.rtype in (1, 28)]


def blocked(reply: DNSRecord) -> bool:
    return addresses(reply) == NULL and FILTERED in ede_codes(reply)


def ttls(reply: DNSRecord) -> list[int]:
    return [rr.ttl for rr in reply.rr]


@pytest.fixture
def home(start_filterd, tmp_path: Path) -> Home:
    shipped = write_lists(
        tmp_path / "shipped",
        social=["social.example"],
        gaming=["game.example"],
        adult=["adult.example"],
        helplines=["childline.example"],
    )
    rules_path = tmp_path / "rules.yaml"
    rules_path.write_text(with_end_line(yaml.safe_dump(base_rules())))
    clock_path = tmp_path / "clock"
    clock_path.write_text(str(london("2026-11-23 16:00") - time.time()))  # a Monday afternoon
    filterd = start_filterd(
        rules=str(rules_path),
        lists_update={
            "directory": str(tmp_path / "lists"),
            "shipped": str(shipped),
            "refresh_hours": 0,
        },
        env={"FILTERD_CLOCK_FILE": str(clock_path)},
    )
    return Home(filterd, rules_path, clock_path)


def test_two_children_get_different_answers_for_the_same_name_at_the_same_moment(home):
    sam, alex = home.ask(SAM, "social.example"), home.ask(ALEX, "social.example")
    assert blocked(sam), "social media is blocked for a 9-12 year old"
    assert addresses(alex) and not blocked(alex), "and allowed for a 13-15 year old"
    assert addresses(home.ask(CARER, "social.example")) != NULL
    rows = logged(home.filterd.db_path, "social.example", "client, child, reason", count=3)
    assert sorted(rows) == [
        (SAM, "sam", "blocked"),
        (ALEX, "alex", "forwarded"),
        (CARER, "", "cached"),
    ]


def test_a_device_nobody_listed_gets_the_strict_profile(home):
    assert blocked(home.ask(STRANGER, "social.example"))
    safe = home.ask(STRANGER, "www.google.com")
    assert str(safe.rr[0].rdata) == "forcesafesearch.google.com."


def test_bedtime_starts_and_ends_on_the_minute_and_answers_never_outlive_it(home):
    home.set_time("2026-11-23 20:29:50")  # Monday, a school night: Sam's bedtime is 20:30
    before = home.ask(SAM, "homework.example")
    assert addresses(before) and not blocked(before)
    assert max(ttls(before)) <= 10, "an answer 10 s before bedtime lives at most 10 s"
    home.set_time("2026-11-23 20:30:01")
    during = home.ask(SAM, "homework.example")
    assert blocked(during)
    assert max(ttls(during)) <= 10, "blocked answers carry a short TTL"
    assert not blocked(home.ask(SAM, "school.example")), "always_allow stays open at bedtime"
    assert addresses(home.ask(SAM, "childline.example")) != NULL, "helplines always answer"
    assert not blocked(home.ask(ALEX, "homework.example")), "Alex's bedtime is later"
    home.set_time("2026-11-24 07:00:01")
    assert not blocked(home.ask(SAM, "homework.example"))
    assert ("127.0.0.2", "sam", "offline") in logged(
        home.filterd.db_path, "homework.example", "client, child, reason"
    )


def test_bedtime_follows_the_clocks_back_in_october(home):
    rules = base_rules()
    rules["children"]["sam"]["offline"] = [{"days": "every_day", "start": "21:00", "end": "07:00"}]
    home.write_rules(rules)
    # Sunday 25 October 2026 is the first evening of GMT: 21:00 is 21:00 UTC, not 20:00 UTC.
    home.set_time("2026-10-25 20:59:55")
    assert datetime.fromtimestamp(london("2026-10-25 20:59:55"), LONDON).utcoffset().seconds == 0
    before = home.ask(SAM, "late.example")
    assert not blocked(before) and max(ttls(before)) <= 5
    home.set_time("2026-10-25 21:00:01")
    assert blocked(home.ask(SAM, "late.example"))


def test_a_spent_daily_limit_blocks_the_category_until_extra_time_and_survives_a_restart(home):
    rules = base_rules()
    rules["children"]["alex"]["limits"] = {"gaming": "2m"}
    home.write_rules(rules)
    time.sleep(1.2)
    home.set_time("2026-11-23 16:10:05")
    assert not blocked(home.ask(ALEX, "game.example"))  # minute 1 of 2
    home.set_time("2026-11-23 16:11:05")
    assert not blocked(home.ask(ALEX_LAPTOP, "play.game.example"))  # minute 2, another device
    spent = home.ask(ALEX, "game.example")
    assert blocked(spent)
    assert not blocked(home.ask(ALEX, "homework.example")), "only gaming is spent"
    assert not blocked(home.ask(SAM, "game.example")), "Sam's usage is his own"

    home.filterd.stop()
    home.filterd.start(env={"FILTERD_CLOCK_FILE": str(home.clock_path)})
    time.sleep(0.7)
    assert blocked(home.ask(ALEX, "game.example")), "usage survives a restart"
    with sqlite3.connect(home.filterd.db_path) as db:
        assert db.execute(
            "SELECT minutes FROM usage WHERE child = 'alex' AND category = 'gaming'"
        ).fetchall() == [(2,)]

    rules["children"]["alex"]["overrides"] = [
        {"kind": "extra_time", "minutes": 1, "until": "2026-11-23 18:00"}
    ]
    home.write_rules(rules)
    assert wait_for(lambda: not blocked(home.ask(ALEX, "game.example")), timeout=2)
    home.set_time("2026-11-23 18:00:01")
    assert blocked(home.ask(ALEX, "game.example")), "the extra time expired"
    home.set_time("2026-11-24 07:30")  # the next morning, after Alex's bedtime ends
    assert not blocked(home.ask(ALEX, "game.example")), "a new day resets the limit"


def test_pause_blocks_everything_until_it_expires(home):
    rules = base_rules()
    rules["children"]["alex"]["overrides"] = [{"kind": "pause", "until": "2026-11-23 17:00"}]
    home.write_rules(rules)
    assert wait_for(lambda: blocked(home.ask(ALEX, "anything.example")), timeout=2)
    reply = home.ask(ALEX, "anything.example")
    assert FILTERED in ede_codes(reply)
    assert not blocked(home.ask(SAM, "anything.example")), "only Alex is paused"
    home.set_time("2026-11-23 16:59:58")
    near = home.ask(ALEX, "other.example")
    assert blocked(near) and max(ttls(near)) <= 2
    home.set_time("2026-11-23 17:00:01")
    assert not blocked(home.ask(ALEX, "anything.example"))


def test_lifting_bedtime_lets_a_child_stay_online_until_the_given_time(home):
    rules = base_rules()
    rules["children"]["sam"]["overrides"] = [{"kind": "lift_bedtime", "until": "2026-11-23 21:00"}]
    home.write_rules(rules)
    time.sleep(1.2)
    home.set_time("2026-11-23 20:45")
    assert not blocked(home.ask(SAM, "film.example"))
    home.set_time("2026-11-23 21:00:01")
    assert blocked(home.ask(SAM, "film.example"))


def test_a_rules_edit_applies_within_two_seconds(home):
    assert not blocked(home.ask(ALEX, "distraction.example"))
    rules = base_rules()
    rules["children"]["alex"]["deny"] = ["distraction.example"]
    started = time.monotonic()
    home.write_rules(rules)
    assert wait_for(lambda: blocked(home.ask(ALEX, "distraction.example")), timeout=2)
    assert time.monotonic() - started < 2


def test_a_broken_edit_is_refused_with_the_key_and_the_old_rules_stay(home):
    rules = base_rules()
    rules["children"]["alex"]["deny"] = ["distraction.example"]
    home.write_rules(rules)
    assert wait_for(lambda: blocked(home.ask(ALEX, "distraction.example")), timeout=2)
    broken = with_end_line(yaml.safe_dump(rules)).replace(
        "age_band: '13_15'", "age_band: '13_15'\n    bedtime: 9pm"
    )
    home.write_rules(broken)
    assert wait_for(lambda: home.filterd.metric("filterd_rules_valid") == 0, timeout=3)
    assert blocked(home.ask(ALEX, "distraction.example")), "the last good rules stay in force"

    def status() -> dict:
        with sqlite3.connect(home.filterd.db_path) as db:
            row = db.execute("SELECT value FROM status WHERE key = 'rules'").fetchone()
        return json.loads(row[0]) if row else {}

    assert wait_for(lambda: status().get("ok") is False, timeout=8)
    assert status()["problems"] == [
        "children.alex.bedtime: unknown key (known: age_band, allow, allowed_during, always_allow,"
        " block_categories, blocked_answer, deny, limits, name, offline, overrides, safe_search,"
        " services, walled_garden)"
    ]
    home.write_rules(base_rules())
    assert wait_for(lambda: not blocked(home.ask(ALEX, "distraction.example")), timeout=2)


def test_a_broken_file_at_start_keeps_the_last_good_rules(home):
    rules = base_rules()
    rules["children"]["alex"]["deny"] = ["distraction.example"]
    home.write_rules(rules)
    assert wait_for(lambda: blocked(home.ask(ALEX, "distraction.example")), timeout=2)
    home.filterd.stop()
    home.write_rules("children: [this is not: valid")
    home.filterd.start(env={"FILTERD_CLOCK_FILE": str(home.clock_path)})
    assert blocked(home.ask(ALEX, "distraction.example"))
    assert "using the last good copy" in home.filterd.log()


def test_safe_search_rewrites_search_engines_by_cname_for_children_only(home):
    reply = home.ask(SAM, "www.google.co.uk")
    assert [str(rr.rdata) for rr in reply.rr if rr.rtype == 5] == ["forcesafesearch.google.com."]
    assert str(reply.rr[0].rname) == "www.google.co.uk."
    assert addresses(reply), "the safe name's own addresses follow the CNAME"
    strict = home.ask(SAM, "www.youtube.com", "AAAA")
    assert str(strict.rr[0].rdata) == "restrict.youtube.com."
    moderate = home.ask(ALEX, "www.youtube.com", "HTTPS")
    assert str(moderate.rr[0].rdata) == "restrictmoderate.youtube.com."
    assert str(home.ask(SAM, "www.bing.com").rr[0].rdata) == "strict.bing.com."
    assert str(home.ask(SAM, "duckduckgo.com").rr[0].rdata) == "safe.duckduckgo.com."
    carer = home.ask(CARER, "www.google.co.uk")
    assert all(rr.rtype != 5 for rr in carer.rr), "adults' searches are left alone"
    assert all(rr.rtype != 5 for rr in home.ask(SAM, "maps.google.co.uk").rr)


def test_walled_garden_lets_only_the_allow_list_resolve(home):
    rules = base_rules()
    rules["children"]["sam"].update(walled_garden=True, allow=["learning.example"])
    home.write_rules(rules)
    assert wait_for(lambda: blocked(home.ask(SAM, "anything.example")), timeout=2)
    assert not blocked(home.ask(SAM, "www.learning.example"))
    assert not blocked(home.ask(SAM, "school.example"))


def test_a_childs_blocked_answer_style_is_their_own(home):
    rules = base_rules()
    rules["children"]["sam"]["blocked_answer"] = "nxdomain"
    home.write_rules(rules)
    assert wait_for(lambda: home.ask(SAM, "social.example").header.rcode == 3, timeout=2)
    assert addresses(home.ask(STRANGER, "social.example")) == NULL
