"""The blocked log (issue 14): routine blocks (bedtime, a spent limit or app time, a pause) as
quiet grey rows labelled "Routine: ...", high-risk categories marked and named "High risk: ...";
filters "high risk only" and "not reviewed yet"; devices by name, not address (an address nobody
knows: "unknown device (192.168.1.40)"); the CSV with the device's name and MAC and every reason
and category in words. Page and API; Flask's test client on real filterd.db and dashboard.db."""

from __future__ import annotations

import csv
import html
import io
import re
import time

from filterd.db.devices import Sighting
from filterd.dns.query import Reason
from tests.support.dashboard_app import csrf_of
from tests.support.filterd_db import query_row, write_devices, write_query_log

NOW = time.time()
SAMS_PHONE = "aa:bb:cc:14:10:01"


def home_log(tmp_path) -> list[int]:
    """Sam's phone (seen by discovery, named in the rules by its MAC), Sam's tablet (listed by
    address), and a device nobody knows; one block of each kind."""
    write_devices(
        tmp_path / "filterd.db",
        [Sighting(SAMS_PHONE, "192.168.1.30", "galaxy", None, None, None, False, NOW - 60)],
    )
    rules = (
        (tmp_path / "rules.yaml")
        .read_text()
        .replace(
            "devices:\n", f"devices:\n- mac: '{SAMS_PHONE}'\n  name: Sam's phone\n  owner: sam\n"
        )
    )
    (tmp_path / "rules.yaml").write_text(rules)
    return write_query_log(
        tmp_path,
        [
            query_row(NOW - 50, "harm.example", categories="self_harm", client="192.168.1.30"),
            query_row(NOW - 40, "late.example", reason=str(Reason.OFFLINE)),
            query_row(NOW - 30, "game.example", reason=str(Reason.LIMIT), categories="gaming"),
            query_row(
                NOW - 25, "tiktokv.com", reason=str(Reason.LIMIT), service="tiktok",
                client="192.168.1.30",
            ),
            query_row(NOW - 20, "any.example", reason=str(Reason.PAUSED)),
            query_row(NOW - 10, "shop.example", categories="shopping", client="192.168.1.40"),
        ],
    )  # fmt: skip


def rows_of(page: str) -> dict[int, tuple[str, str]]:
    """{query id: (row class, row html)}."""
    found = re.findall(r'<tr id="q(\d+)" class="([^"]*)">(.*?)</tr>', page, re.S)
    return {int(i): (cls, body) for i, cls, body in found}


def test_routine_and_high_risk_rows_look_different_and_say_so_in_words(tmp_path, signed_in):
    harm, late, game, app, paused, shop = home_log(tmp_path)
    lead = signed_in("Lee", "safeguarding_lead")
    page = lead.get("/blocked/").get_data(as_text=True)
    rows = rows_of(page)
    assert "high-risk" in rows[harm][0].split() and "High risk: self-harm" in rows[harm][1]
    for query_id, words in (
        (late, "Routine: Bedtime"),
        (game, "Routine: Daily limit reached"),
        (app, "Routine: App time used up"),
        (paused, "Routine: Paused"),
    ):
        cls, body = rows[query_id]
        assert "routine" in cls.split() and words in body, words
        assert "High risk" not in body
    assert rows[shop][0].split() in (["unreviewed"], []) and "Routine" not in rows[shop][1]
    # devices by name: the rules' name for a MAC seen at the address, the one listed by address,
    # and the one nobody knows
    assert "Sam&#39;s phone" in rows[harm][1] and "Sam&#39;s tablet" in rows[late][1]
    assert "unknown device (192.168.1.40)" in rows[shop][1]
    assert "<code>192.168.1.30</code>" not in page
    for code in ("offline", "self_harm", ">limit<", ">paused<"):
        assert code not in "".join(body for _, body in rows.values()), code


def test_high_risk_only_and_not_reviewed_filters_on_the_page_and_the_api(tmp_path, signed_in):
    harm, late, game, app, paused, shop = home_log(tmp_path)
    lead = signed_in("Lee", "safeguarding_lead")
    only_risky = lead.get("/blocked/?risk=high").get_data(as_text=True)
    assert list(rows_of(only_risky)) == [harm]
    assert 'id="f-risk" name="risk" value="high" checked' in only_risky

    lead.post(
        "/blocked/review",
        data={"id": [late, game], "outcome": "no_concern", "csrf": csrf_of(lead, "/blocked/")},
    )
    waiting = lead.get("/blocked/?review=waiting").get_data(as_text=True)
    assert sorted(rows_of(waiting)) == sorted([harm, app, paused, shop])
    both = lead.get("/blocked/?review=waiting&risk=high").get_data(as_text=True)
    assert list(rows_of(both)) == [harm]
    # the home page's "not reviewed" alert leads to exactly those
    home = lead.get("/").get_data(as_text=True)
    link = html.unescape(re.search(r'href="([^"]+)">Review them', home)[1])
    assert list(rows_of(lead.get(link).get_data(as_text=True))) == [harm]

    body = lead.get("/api/blocked?review=waiting").get_json()
    assert sorted(e["id"] for e in body["entries"]) == sorted([harm, app, paused, shop])
    by_id = {e["id"]: e for e in body["entries"]}
    assert by_id[harm]["device"] == "Sam's phone" and by_id[harm]["device_mac"] == SAMS_PHONE
    assert by_id[harm]["kind"] == {"style": "high-risk", "label": "High risk: self-harm"}
    assert by_id[app]["why"] == "App time used up"
    assert by_id[shop]["device"] == "unknown device (192.168.1.40)"
    risky = lead.get("/api/blocked?risk=high").get_json()["entries"]
    assert [e["id"] for e in risky] == [harm]
    # an unknown filter value: the page shows everything, the API says what it expected
    assert lead.get("/blocked/?risk=everything").status_code == 200
    wrong = lead.get("/api/blocked?risk=everything")
    assert wrong.status_code == 400 and "risk: expected 'high'" in wrong.get_json()["error"]


def test_the_csv_names_devices_and_says_reasons_and_categories_in_words(tmp_path, signed_in):
    home_log(tmp_path)
    lead = signed_in("Lee", "safeguarding_lead")
    reply = lead.get("/blocked/export.csv")
    rows = list(csv.DictReader(io.StringIO(reply.get_data(as_text=True))))
    by_site = {row["site"]: row for row in rows}
    harm = by_site["harm.example"]
    assert harm["device"] == "Sam's phone" and harm["device MAC"] == SAMS_PHONE
    assert harm["device address"] == "192.168.1.30" and harm["child"] == "Sam"
    assert harm["categories"] == "self-harm" and harm["why blocked"] == "Blocked category"
    assert harm["high risk"] == "yes"
    assert by_site["late.example"]["why blocked"] == "Bedtime"
    assert by_site["tiktokv.com"]["why blocked"] == "App time used up"
    assert by_site["tiktokv.com"]["app"] == "TikTok"
    assert by_site["shop.example"]["device"] == "unknown device (192.168.1.40)"
    assert by_site["shop.example"]["device MAC"] == ""
    codes = {"offline", "limit", "paused", "blocked", "self_harm"}
    for row in rows:
        assert not codes & {row["why blocked"], row["categories"]}, row
    only_risky = lead.get("/blocked/export.csv?risk=high").get_data(as_text=True)
    assert len(list(csv.DictReader(io.StringIO(only_risky)))) == 1
