"""Apps by name end to end: a real filterd, the scripted upstream, the shipped app catalogue.

Each child's device asks from its own 127.x address; the daemon's wall clock is moved through
$FILTERD_CLOCK_FILE as in test_child_profiles, so windows and limits are crossed in seconds.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from dnslib import DNSRecord

from filterd.catalogue.load import CATALOGUE_FILE
from tests.support.dns_client import addresses, ttls
from tests.support.filterd_process import wait_for
from tests.support.lists import blocked, write_lists
from tests.support.loopback_home import ALEX, SAM, LoopbackHome, base_rules, start_on_loopback
from tests.support.query_log import logged


def ede_texts(reply: DNSRecord) -> list[str]:
    """The extra text of each Extended DNS Error option (RFC 8914) in a reply."""
    texts = []
    for rr in reply.ar:
        if rr.rtype == 41:
            texts += [o.data[2:].decode() for o in rr.rdata if o.code == 15]
    return texts


def answered(reply: DNSRecord) -> bool:
    return bool(addresses(reply)) and not blocked(reply)


@pytest.fixture
def apps_home(start_filterd, tmp_path: Path) -> LoopbackHome:
    shipped = write_lists(
        tmp_path / "shipped", social=["social.example"], helplines=["help.example"]
    )
    shutil.copy(CATALOGUE_FILE, shipped / "services.yaml")  # the catalogue beside the lists
    home = start_on_loopback(start_filterd, tmp_path, base_rules(), shipped)
    home.shipped = shipped  # type: ignore[attr-defined]
    return home


def with_child(child: str, **settings) -> dict:
    rules = base_rules()
    rules["children"][child].update(settings)
    return rules


def apply(home: LoopbackHome, rules: dict, probe_source: str, probe: str, is_blocked: bool) -> None:
    """Write rules and wait until a probe name answers as they say."""
    home.write_rules(rules)
    assert wait_for(lambda: blocked(home.ask(probe_source, probe)) == is_blocked, timeout=8)


def test_tiktok_blocked_while_social_is_allowed_blocks_its_api_and_cdn_not_instagram(apps_home):
    home = apps_home
    assert answered(home.ask(ALEX, "www.tiktok.com"))  # 13_15 allows social
    apply(home, with_child("alex", services={"tiktok": "blocked"}), ALEX, "www.tiktok.com", True)
    for name in ("api16-normal-c-useast1a.tiktokv.com", "v16m.tiktokcdn.com", "musical.ly"):
        reply = home.ask(ALEX, name)
        assert blocked(reply), name
        assert ede_texts(reply) == ["blocked: TikTok"], name
    for name in ("i.instagram.com", "scontent-lhr8-1.cdninstagram.com", "social.example"):
        assert answered(home.ask(ALEX, name)), name
    # Shared names are never blocked because TikTok is: a Google login, Akamai's CDN.
    for name in ("accounts.google.com", "a1234.dscb.akamaized.net", "p16-sign.byteoversea.com"):
        assert answered(home.ask(ALEX, name)), name
    # The query log shows the app beside the domain, blocked or answered.
    assert logged(home.filterd.db_path, "v16m.tiktokcdn.com", timeout=5)
    row = logged(home.filterd.db_path, "v16m.tiktokcdn.com")[0]
    assert (row["service"], row["reason"], row["child"]) == ("tiktok", "blocked", "alex")
    assert logged(home.filterd.db_path, "i.instagram.com", timeout=5)
    assert logged(home.filterd.db_path, "i.instagram.com")[0]["service"] == "instagram"


def test_a_preset_blocks_the_apps_its_categories_block_and_names_the_app(apps_home):
    home = apps_home  # Sam is 9_12: social blocked, so every TikTok name is, by category
    reply = home.ask(SAM, "api.tiktokv.com")
    assert blocked(reply)
    assert ede_texts(reply) == ["blocked: TikTok (social)"]
    # A carer's choice for the app wins over the category's: Pinterest allowed for Sam.
    apply(home, with_child("sam", services={"pinterest": "allowed"}), SAM, "i.pinimg.com", False)
    assert blocked(home.ask(SAM, "api.tiktokv.com"))


def test_roblox_only_on_saturday_morning_is_answered_then_and_blocked_at_noon(apps_home):
    home = apps_home
    window = {"days": ["sat"], "start": "10:00", "end": "12:00", "services": ["roblox"]}
    home.set_time("2026-11-28 09:59:30")  # a Saturday, before the window
    apply(home, with_child("sam", allowed_during=[window]), SAM, "apis.roblox.com", True)
    home.set_time("2026-11-28 11:59:30")
    reply = home.ask(SAM, "apis.roblox.com")
    assert answered(reply)
    assert all(ttl <= 31 for ttl in ttls(reply))  # never outlives the window's end
    assert answered(home.ask(SAM, "tr.rbxcdn.com"))
    home.set_time("2026-11-28 12:00:01")
    reply = home.ask(SAM, "apis.roblox.com")
    assert blocked(reply)
    assert ede_texts(reply) == ["blocked: Roblox (outside its allowed times)"]
    assert blocked(home.ask(SAM, "tr.rbxcdn.com"))
    assert answered(home.ask(SAM, "game.example"))  # other games are not Roblox


def test_a_one_minute_youtube_limit_blocks_youtube_and_leaves_iplayer(apps_home):
    home = apps_home
    rules = with_child("alex", limits={"youtube": "1m"}, deny=["probe.example"])
    apply(home, rules, ALEX, "probe.example", True)  # the new rules are in force
    assert answered(home.ask(ALEX, "www.youtube.com"))  # the first minute of YouTube
    assert wait_for(lambda: blocked(home.ask(ALEX, "www.youtube.com")), timeout=5)
    reply = home.ask(ALEX, "rr3---sn-aigl6nzr.googlevideo.com")
    assert blocked(reply)
    assert ede_texts(reply) == ["daily limit reached: YouTube"]
    assert blocked(home.ask(ALEX, "youtubei.googleapis.com"))
    assert answered(home.ask(ALEX, "vod-dash-uk-live.akamaized.net"))  # BBC iPlayer
    assert answered(home.ask(ALEX, "www.googleapis.com"))  # shared: not YouTube's
    # The minutes were counted per app, as per category.
    with sqlite3.connect(home.filterd.db_path) as db:
        assert wait_for(
            lambda: (
                db.execute(
                    "SELECT minutes FROM usage WHERE child = 'alex' AND category = 'youtube'"
                ).fetchall()
                == [(1,)]
            ),
            timeout=8,
        )


def test_a_new_catalogue_is_swapped_in_and_a_bad_one_keeps_the_old(apps_home):
    home = apps_home
    catalogue = home.shipped / "services.yaml"  # type: ignore[attr-defined]
    text = catalogue.read_text()
    apply(home, with_child("alex", services={"tiktok": "blocked"}), ALEX, "www.tiktok.com", True)

    catalogue.write_text(text.replace("services_count: 167", "services_count: 999"))
    assert wait_for(lambda: "services_count: says 999" in home.filterd.log(), timeout=8)
    assert blocked(home.ask(ALEX, "api.tiktokv.com"))  # the old catalogue stays in force

    grown = text.replace("services_count: 167", "services_count: 168") + (
        "  new_app:\n    name: New App\n    kind: social\n    domains: [newapp.example]\n"
        "    checked: 2026-11-27\n    source: knowledge\n"
    )
    catalogue.write_text(grown)
    assert wait_for(lambda: "168 services" in home.filterd.log(), timeout=8)
    apply(
        home,
        with_child("alex", services={"tiktok": "blocked", "new_app": "blocked"}),
        ALEX,
        "cdn.newapp.example",
        True,
    )
    assert ede_texts(home.ask(ALEX, "cdn.newapp.example")) == ["blocked: New App"]
