"""The Apps screen with Flask's test client on real files: choices saved through the rules
save path and accepted by filterd's parser, refusals in plain words, the home page's top apps."""

from __future__ import annotations

import html
import sqlite3
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import yaml

from filterd.rules.parse import parse_rules
from tests.support.dashboard_app import csrf_of, version_of
from tests.support.dashboard_forms import save_sam
from tests.support.filterd_db import query_row, write_queries, write_usage

GRID = "/children/sam/apps"


def choose(client, service: str, choice: str, **fields):
    page = f"/children/sam/apps/{service}"
    data = {"csrf": csrf_of(client, page), "version": version_of(client, page), "choice": choice}
    return client.post(page, data={**data, **fields})


def sam_rules(tmp_path):
    text = (tmp_path / "rules.yaml").read_text()
    return parse_rules(text).children["sam"], yaml.safe_load(text)["children"]["sam"]


def test_the_grid_shows_the_most_used_twenty_first_then_every_app_by_kind(signed_in):
    client = signed_in("Jo", "viewer")
    page = client.get(GRID).get_data(as_text=True)
    headings = [h.split(">")[-1] for h in page.split("</h2>")[:-1]]
    assert headings[:3] == ["Most used", "Social media", "Messaging"]
    first = page.index('id="app-youtube"'), page.index('id="app-tiktok"')
    assert max(first) < page.index('id="kind-social"')
    assert page.count('class="app') >= 120
    assert page.count('id="app-tiktok"') == 1  # shown once, in the top twenty
    assert "Blocked: social is blocked" in page  # Sam is 9_12: social blocked by the preset
    assert 'class="choices"' not in page  # a viewer gets no buttons


def test_search_finds_an_app_by_name_or_kind(signed_in):
    client = signed_in("Jo", "carer")
    page = client.get(GRID, query_string={"q": "rob"}).get_data(as_text=True)
    assert 'id="app-roblox"' in page and 'id="app-tiktok"' not in page
    assert "1 app matches" in page
    dating = client.get(GRID, query_string={"q": "dating"}).get_data(as_text=True)
    assert 'id="app-tinder"' in dating


def test_one_tap_blocks_an_app_and_filterd_accepts_the_file(tmp_path, signed_in):
    client = signed_in("Jo", "carer")
    response = choose(client, "youtube", "blocked")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/children/sam/apps#app-youtube")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "YouTube: Blocked." in page
    sam, raw = sam_rules(tmp_path)
    assert sam.services == {"youtube": "blocked"} and raw["services"] == {"youtube": "blocked"}
    choose(client, "youtube", "category")
    sam, raw = sam_rules(tmp_path)
    assert sam.services == {} and "services" not in raw


def test_hours_and_a_limit_replace_each_other_and_are_applied(tmp_path, signed_in):
    client = signed_in("Jo", "carer")
    assert (
        choose(client, "roblox", "hours", days="sat", start="10:00", end="12:00").status_code == 302
    )
    sam, raw = sam_rules(tmp_path)
    assert raw["allowed_during"] == [
        {"days": "sat", "start": "10:00", "end": "12:00", "services": ["roblox"]}
    ]
    assert sam.allowed_during[0].services == frozenset({"roblox"})
    assert choose(client, "roblox", "limit", limit="45").status_code == 302
    sam, raw = sam_rules(tmp_path)
    assert "allowed_during" not in raw and sam.limits.services == {"roblox": 45}
    assert sam.limits.overall == 180  # the rest of Sam's limits are kept
    page = client.get(GRID).get_data(as_text=True)
    assert "Daily limit: 45 minutes" in page


def test_a_bad_time_is_refused_in_plain_words_and_the_file_is_unchanged(tmp_path, signed_in):
    client = signed_in("Jo", "carer")
    before = (tmp_path / "rules.yaml").read_text()
    response = choose(client, "roblox", "hours", days="sat", start="25:00", end="12:00")
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    # said by the one table of refusals (dashboard/data/rules_errors.py), as the editor says it
    assert "Apps and set hours: a time must be like 16:00" in page
    assert "allowed_during" not in page and "expected HH:MM" not in page
    assert "children.sam" not in page  # no key paths on a page
    assert 'value="25:00"' in page  # the person's input is kept
    assert (tmp_path / "rules.yaml").read_text() == before


def test_a_viewer_cannot_choose(tmp_path, signed_in):
    client = signed_in("Vi", "viewer")
    before = (tmp_path / "rules.yaml").read_text()
    page = "/children/sam/apps/tiktok"
    response = client.post(page, data={"csrf": csrf_of(client, page), "choice": "allowed"})
    assert response.status_code in (302, 403)
    assert (tmp_path / "rules.yaml").read_text() == before


def test_the_home_page_and_the_childs_page_show_top_apps_today(tmp_path, signed_in):
    client = signed_in("Jo", "carer")
    page = client.get("/").get_data(as_text=True)
    assert "Top apps today" not in page
    day = datetime.now(ZoneInfo("Europe/London")).strftime("%Y-%m-%d")
    write_usage(
        tmp_path / "filterd.db",
        [
            (day, "sam", "overall", 70),
            (day, "sam", "streaming", 50),
            (day, "sam", "youtube", 45),
            (day, "sam", "roblox", 20),
            (day, "sam", "minecraft", 5),
            (day, "sam", "spotify", 2),
        ],
    )
    page = client.get("/").get_data(as_text=True)
    assert "Top apps today: YouTube 45 min, Roblox 20 min, Minecraft 5 min</p>" in page
    child = client.get("/children/sam").get_data(as_text=True)
    assert "Apps today: YouTube 45 min, Roblox 20 min, Minecraft 5 min, Spotify 2 min" in child
    with sqlite3.connect(tmp_path / "filterd.db") as db:  # the counts filterd wrote stay
        assert db.execute("SELECT count(*) FROM usage").fetchone()[0] == 6


def test_the_blocked_log_shows_the_app_beside_the_domain(tmp_path, signed_in):
    now = time.time()
    write_queries(
        tmp_path / "filterd.db",
        [
            query_row(now, name, categories="social", rcode="NOERROR", service=service)
            for name, service in (("v16m.tiktokcdn.com", "tiktok"), ("bet.example", ""))
        ],
    )
    client = signed_in("Lee", "safeguarding_lead")
    page = client.get("/blocked/").get_data(as_text=True)
    assert '>v16m.tiktokcdn.com</code><br><span class="app-name">TikTok</span>' in page
    assert ">bet.example</code></td>" in page


def test_saving_the_rules_page_keeps_the_childs_app_choices(tmp_path, signed_in):
    client = signed_in("Jo", "carer")
    choose(client, "tiktok", "blocked")
    choose(client, "youtube", "limit", limit="30")
    choose(client, "roblox", "hours", days="weekends", start="09:00", end="11:00")
    assert save_sam(client, tmp_path, school_start="21:00").status_code == 302
    sam, _ = sam_rules(tmp_path)
    assert sam.services == {"tiktok": "blocked"}
    assert sam.limits.services == {"youtube": 30} and sam.limits.overall == 180
    assert sam.allowed_during[0].services == frozenset({"roblox"})
    assert sam.offline[0].start == 21 * 60


def test_the_api_lists_each_childs_top_apps_today(tmp_path, signed_in):
    day = datetime.now(ZoneInfo("Europe/London")).strftime("%Y-%m-%d")
    write_usage(tmp_path / "filterd.db", [(day, "sam", "overall", 30), (day, "sam", "roblox", 25)])
    client = signed_in("Jo", "viewer")
    children = {c["id"]: c for c in client.get("/api/children").get_json()["children"]}
    assert children["sam"]["top_apps"] == [["Roblox", 25]]
    assert children["alex"]["top_apps"] == []
