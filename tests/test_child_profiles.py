"""Child profiles end to end: filterd on loopback, each child's devices on their own 127.x address.

The daemon's wall clock is moved through $FILTERD_CLOCK_FILE (an offset in seconds), so
bedtime, limits and expiries are crossed in seconds; DNS itself runs on real time.
"""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import datetime

import yaml

from filterd.rules.guards import with_end_line
from tests.support.dns_client import addresses, ttls
from tests.support.filterd_process import wait_for
from tests.support.lists import FILTERED, blocked, ede_codes
from tests.support.loopback_home import ALEX, ALEX_LAPTOP, CARER, SAM, STRANGER, base_rules
from tests.support.query_log import logged
from tests.support.wall_clock import LONDON, london

NULL = ["0.0.0.0"]


def test_two_children_get_different_answers_for_the_same_name_at_the_same_moment(loopback_home):
    sam, alex = loopback_home.ask(SAM, "social.example"), loopback_home.ask(ALEX, "social.example")
    assert blocked(sam), "social media is blocked for a 9-12 year old"
    assert addresses(alex) and not blocked(alex), "and allowed for a 13-15 year old"
    assert addresses(loopback_home.ask(CARER, "social.example")) != NULL
    rows = logged(loopback_home.filterd.db_path, "social.example", "client, child, reason", count=3)
    assert sorted(rows) == [
        (SAM, "sam", "blocked"),
        (ALEX, "alex", "forwarded"),
        (CARER, "", "cached"),
    ]


def test_a_device_nobody_listed_gets_the_strict_profile(loopback_home):
    assert blocked(loopback_home.ask(STRANGER, "social.example"))
    safe = loopback_home.ask(STRANGER, "www.google.com")
    assert str(safe.rr[0].rdata) == "forcesafesearch.google.com."


def test_bedtime_starts_and_ends_on_the_minute_and_answers_never_outlive_it(loopback_home):
    loopback_home.set_time("2026-11-23 20:29:50")  # Monday, a school night: Sam's bedtime is 20:30
    before = loopback_home.ask(SAM, "homework.example")
    assert addresses(before) and not blocked(before)
    assert max(ttls(before)) <= 10, "an answer 10 s before bedtime lives at most 10 s"
    loopback_home.set_time("2026-11-23 20:30:01")
    during = loopback_home.ask(SAM, "homework.example")
    assert blocked(during)
    assert max(ttls(during)) <= 10, "blocked answers carry a short TTL"
    assert not blocked(loopback_home.ask(SAM, "school.example")), (
        "always_allow stays open at bedtime"
    )
    assert addresses(loopback_home.ask(SAM, "childline.example")) != NULL, "helplines always answer"
    assert not blocked(loopback_home.ask(ALEX, "homework.example")), "Alex's bedtime is later"
    loopback_home.set_time("2026-11-24 07:00:01")
    assert not blocked(loopback_home.ask(SAM, "homework.example"))
    assert ("127.0.0.2", "sam", "offline") in logged(
        loopback_home.filterd.db_path, "homework.example", "client, child, reason"
    )


def test_bedtime_follows_the_clocks_back_in_october(loopback_home):
    rules = base_rules()
    rules["children"]["sam"]["offline"] = [{"days": "every_day", "start": "21:00", "end": "07:00"}]
    loopback_home.write_rules(rules)
    # Sunday 25 October 2026 is the first evening of GMT: 21:00 is 21:00 UTC, not 20:00 UTC.
    loopback_home.set_time("2026-10-25 20:59:55")
    assert datetime.fromtimestamp(london("2026-10-25 20:59:55"), LONDON).utcoffset().seconds == 0
    before = loopback_home.ask(SAM, "late.example")
    assert not blocked(before) and max(ttls(before)) <= 5
    loopback_home.set_time("2026-10-25 21:00:01")
    assert blocked(loopback_home.ask(SAM, "late.example"))


def test_a_spent_daily_limit_blocks_the_category_until_extra_time_and_survives_a_restart(
    loopback_home,
):
    rules = base_rules()
    rules["children"]["alex"]["limits"] = {"gaming": "2m"}
    loopback_home.write_rules(rules)
    time.sleep(1.2)
    loopback_home.set_time("2026-11-23 16:10:05")
    assert not blocked(loopback_home.ask(ALEX, "game.example"))  # minute 1 of 2
    loopback_home.set_time("2026-11-23 16:11:05")
    assert not blocked(
        loopback_home.ask(ALEX_LAPTOP, "play.game.example")
    )  # minute 2, another device
    spent = loopback_home.ask(ALEX, "game.example")
    assert blocked(spent)
    assert not blocked(loopback_home.ask(ALEX, "homework.example")), "only gaming is spent"
    assert not blocked(loopback_home.ask(SAM, "game.example")), "Sam's usage is his own"

    loopback_home.filterd.stop()
    loopback_home.filterd.start(env={"FILTERD_CLOCK_FILE": str(loopback_home.clock_path)})
    time.sleep(0.7)
    assert blocked(loopback_home.ask(ALEX, "game.example")), "usage survives a restart"
    with sqlite3.connect(loopback_home.filterd.db_path) as db:
        assert db.execute(
            "SELECT minutes FROM usage WHERE child = 'alex' AND category = 'gaming'"
        ).fetchall() == [(2,)]

    rules["children"]["alex"]["overrides"] = [
        {"kind": "extra_time", "minutes": 1, "until": "2026-11-23 18:00"}
    ]
    loopback_home.write_rules(rules)
    assert wait_for(lambda: not blocked(loopback_home.ask(ALEX, "game.example")), timeout=2)
    loopback_home.set_time("2026-11-23 18:00:01")
    assert blocked(loopback_home.ask(ALEX, "game.example")), "the extra time expired"
    loopback_home.set_time("2026-11-24 07:30")  # the next morning, after Alex's bedtime ends
    assert not blocked(loopback_home.ask(ALEX, "game.example")), "a new day resets the limit"


def test_pause_blocks_everything_until_it_expires(loopback_home):
    rules = base_rules()
    rules["children"]["alex"]["overrides"] = [{"kind": "pause", "until": "2026-11-23 17:00"}]
    loopback_home.write_rules(rules)
    assert wait_for(lambda: blocked(loopback_home.ask(ALEX, "anything.example")), timeout=2)
    reply = loopback_home.ask(ALEX, "anything.example")
    assert FILTERED in ede_codes(reply)
    assert not blocked(loopback_home.ask(SAM, "anything.example")), "only Alex is paused"
    loopback_home.set_time("2026-11-23 16:59:58")
    near = loopback_home.ask(ALEX, "other.example")
    assert blocked(near) and max(ttls(near)) <= 2
    loopback_home.set_time("2026-11-23 17:00:01")
    assert not blocked(loopback_home.ask(ALEX, "anything.example"))


def test_lifting_bedtime_lets_a_child_stay_online_until_the_given_time(loopback_home):
    rules = base_rules()
    rules["children"]["sam"]["overrides"] = [{"kind": "lift_bedtime", "until": "2026-11-23 21:00"}]
    loopback_home.write_rules(rules)
    time.sleep(1.2)
    loopback_home.set_time("2026-11-23 20:45")
    assert not blocked(loopback_home.ask(SAM, "film.example"))
    loopback_home.set_time("2026-11-23 21:00:01")
    assert blocked(loopback_home.ask(SAM, "film.example"))


def test_a_rules_edit_applies_within_two_seconds(loopback_home):
    assert not blocked(loopback_home.ask(ALEX, "distraction.example"))
    rules = base_rules()
    rules["children"]["alex"]["deny"] = ["distraction.example"]
    started = time.monotonic()
    loopback_home.write_rules(rules)
    assert wait_for(lambda: blocked(loopback_home.ask(ALEX, "distraction.example")), timeout=2)
    assert time.monotonic() - started < 2


def test_a_broken_edit_is_refused_with_the_key_and_the_old_rules_stay(loopback_home):
    rules = base_rules()
    rules["children"]["alex"]["deny"] = ["distraction.example"]
    loopback_home.write_rules(rules)
    assert wait_for(lambda: blocked(loopback_home.ask(ALEX, "distraction.example")), timeout=2)
    broken = with_end_line(yaml.safe_dump(rules)).replace(
        "age_band: '13_15'", "age_band: '13_15'\n    bedtime: 9pm"
    )
    loopback_home.write_rules(broken)
    assert wait_for(lambda: loopback_home.filterd.metric("filterd_rules_valid") == 0, timeout=3)
    assert blocked(loopback_home.ask(ALEX, "distraction.example")), (
        "the last good rules stay in force"
    )

    def status() -> dict:
        with sqlite3.connect(loopback_home.filterd.db_path) as db:
            row = db.execute("SELECT value FROM status WHERE key = 'rules'").fetchone()
        return json.loads(row[0]) if row else {}

    assert wait_for(lambda: status().get("ok") is False, timeout=8)
    assert status()["problems"] == [
        "children.alex.bedtime: unknown key (known: age_band, allow, allowed_during, always_allow,"
        " block_categories, blocked_answer, deny, limits, name, offline, overrides, safe_search,"
        " services, walled_garden)"
    ]
    loopback_home.write_rules(base_rules())
    assert wait_for(lambda: not blocked(loopback_home.ask(ALEX, "distraction.example")), timeout=2)


def test_a_broken_file_at_start_keeps_the_last_good_rules(loopback_home):
    rules = base_rules()
    rules["children"]["alex"]["deny"] = ["distraction.example"]
    loopback_home.write_rules(rules)
    assert wait_for(lambda: blocked(loopback_home.ask(ALEX, "distraction.example")), timeout=2)
    loopback_home.filterd.stop()
    loopback_home.write_rules("children: [this is not: valid")
    loopback_home.filterd.start(env={"FILTERD_CLOCK_FILE": str(loopback_home.clock_path)})
    assert blocked(loopback_home.ask(ALEX, "distraction.example"))
    assert "using the last good copy" in loopback_home.filterd.log()


def test_safe_search_rewrites_search_engines_by_cname_for_children_only(loopback_home):
    reply = loopback_home.ask(SAM, "www.google.co.uk")
    assert [str(rr.rdata) for rr in reply.rr if rr.rtype == 5] == ["forcesafesearch.google.com."]
    assert str(reply.rr[0].rname) == "www.google.co.uk."
    assert addresses(reply), "the safe name's own addresses follow the CNAME"
    strict = loopback_home.ask(SAM, "www.youtube.com", "AAAA")
    assert str(strict.rr[0].rdata) == "restrict.youtube.com."
    moderate = loopback_home.ask(ALEX, "www.youtube.com", "HTTPS")
    assert str(moderate.rr[0].rdata) == "restrictmoderate.youtube.com."
    assert str(loopback_home.ask(SAM, "www.bing.com").rr[0].rdata) == "strict.bing.com."
    assert str(loopback_home.ask(SAM, "duckduckgo.com").rr[0].rdata) == "safe.duckduckgo.com."
    carer = loopback_home.ask(CARER, "www.google.co.uk")
    assert all(rr.rtype != 5 for rr in carer.rr), "adults' searches are left alone"
    assert all(rr.rtype != 5 for rr in loopback_home.ask(SAM, "maps.google.co.uk").rr)


def test_walled_garden_lets_only_the_allow_list_resolve(loopback_home):
    rules = base_rules()
    rules["children"]["sam"].update(walled_garden=True, allow=["learning.example"])
    loopback_home.write_rules(rules)
    assert wait_for(lambda: blocked(loopback_home.ask(SAM, "anything.example")), timeout=2)
    assert not blocked(loopback_home.ask(SAM, "www.learning.example"))
    assert not blocked(loopback_home.ask(SAM, "school.example"))


def test_a_childs_blocked_answer_style_is_their_own(loopback_home):
    rules = base_rules()
    rules["children"]["sam"]["blocked_answer"] = "nxdomain"
    loopback_home.write_rules(rules)
    assert wait_for(lambda: loopback_home.ask(SAM, "social.example").header.rcode == 3, timeout=2)
    assert addresses(loopback_home.ask(STRANGER, "social.example")) == NULL
