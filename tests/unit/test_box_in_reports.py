"""The digests and the monthly report say how the box itself held up ("The box"): every
upstream failing, stale lists, the illegal-content source removed, a failed self-test, a
refused rules file, and each category's list freshness. Found by the outside check: none of
this was in either, and the PDF's Blocklists part said only "Last updated ..."."""

from __future__ import annotations

import io
import time
from datetime import datetime

from pypdf import PdfReader

from dashboard.alerts.digest import DAILY, _period, build
from dashboard.data.db import connect
from dashboard.data.home_timezone import HOME_TZ
from dashboard.data.list_health import list_health
from filterd.db.events import EventLog
from filterd.db.read import FilterdReader
from filterd.events.kinds import (
    LISTS_ILLEGAL_SOURCE_REMOVED,
    RULES_REFUSED,
    SELFTEST_FAILED,
    UPSTREAM_ALL_FAILING,
    UPSTREAM_RECOVERED,
)
from filterd.lists.settings import BlocklistSettings, ListsUpdate
from filterd.lists.update import build_index
from filterd.rules.model import Profile, Rules
from tests.support.dashboard_app import logged_in, make_app
from tests.support.filterd_db import LONG_AGO


def _trouble(database, at: float) -> None:
    log = EventLog(database, "filterd")
    try:
        log.append(UPSTREAM_ALL_FAILING, ts=at)
        log.append(UPSTREAM_ALL_FAILING, ts=at + 60)
        log.append(UPSTREAM_RECOVERED, ts=at + 120)
        log.append(LISTS_ILLEGAL_SOURCE_REMOVED, ts=at + 180)
        log.append(SELFTEST_FAILED, data={"ok": False, "checks": []}, ts=at + 240)
        log.append(RULES_REFUSED, ts=at + 300)
    finally:
        log.close()


def test_the_daily_digest_has_the_box(tmp_path):
    settings = BlocklistSettings(lists_update=ListsUpdate(directory=tmp_path / "lists"))
    build_index(settings, online=False)
    now = time.time()
    today = datetime.fromtimestamp(now, HOME_TZ).date()
    period = _period(DAILY, today, 1, HOME_TZ)
    _trouble(tmp_path / "filterd.db", period.start + 60)
    rules = Rules(HOME_TZ, {"sam": Profile("sam", "Sam", "13_15", 0)}, (), None)
    db = connect(tmp_path / "dashboard.db")
    reader = FilterdReader(tmp_path / "filterd.db", LONG_AGO)
    try:
        lists = list_health(settings, rules, now)
        digest = build(period, reader, db, rules, "https://box", lists)
    finally:
        reader.close()
        db.close()
    text = digest["text"]
    assert "The box:" in text and "<h2" in digest["html"] and "The box</h2>" in digest["html"]
    assert "Every upstream DNS server failed (sites did not open): 2 times, first" in text
    assert "The illegal-content list was removed from the settings:" in text
    assert "The filter self-test found something not blocked:" in text
    assert "A rules file was refused (the rules in force stayed):" in text
    assert "Blocklist self-harm:" in text and "sites, shipped with filterd" in text, text


def test_the_monthly_report_has_the_box(tmp_path):
    lists = tmp_path / "lists"
    build_index(BlocklistSettings(lists_update=ListsUpdate(directory=lists)), online=False)
    app = make_app(tmp_path, retention_days=365, extra={"lists_update": {"directory": str(lists)}})
    now = time.time()
    moment = datetime.fromtimestamp(now, HOME_TZ)
    start = datetime(moment.year, moment.month, 1, tzinfo=HOME_TZ).timestamp()
    _trouble(tmp_path / "filterd.db", start + 60)
    client = logged_in(app, "Dee", "safeguarding_lead")
    reply = client.get(f"/reports/evidence.pdf?month={moment:%Y-%m}")
    assert reply.status_code == 200
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(reply.data)).pages)
    text = " ".join(text.split())
    assert "The box" in text
    assert "Every upstream DNS server failed (sites did not open): 2 times" in text
    assert "The illegal-content list was removed from the settings" in text
    assert "Blocklist adult:" in text, text
