"""The monthly evidence report: a month of generated activity (written by filterd's own query-log
writer and stores), the PDF downloaded by the safeguarding lead, and its text checked."""

from __future__ import annotations

import io
import time
from datetime import datetime

from pypdf import PdfReader

from dashboard.data import audit
from dashboard.data.blocked_log import record_reviews
from dashboard.data.db import connect
from dashboard.data.home_timezone import HOME_TZ
from filterd.db.events import EventLog
from filterd.db.querylog_writer import Writer, open_database
from filterd.db.usage_status import UsageStatusDb
from filterd.dns.wire import text_to_wire
from filterd.events.kinds import SELFTEST_FAILED, SELFTEST_RESULT
from filterd.lists.categories import mask_of
from tests.support.dashboard_app import logged_in, make_app


def generate_month(tmp_path) -> tuple[str, list[int]]:
    """A month so far of Sam's activity: searches, blocks (some high-risk), usage, a self-test."""
    now = time.time()
    moment = datetime.fromtimestamp(now, HOME_TZ)
    month = moment.strftime("%Y-%m")
    start = datetime(moment.year, moment.month, 1, tzinfo=HOME_TZ).timestamp()
    step = max(1.0, (now - start) / 400)
    entries = []
    for i in range(300):
        ts = start + i * step
        name, reason, categories = "school.example", "forwarded", 0
        if i % 10 == 0:
            name, reason, categories = f"harm{i}.example", "blocked", mask_of(["self_harm"])
        elif i % 7 == 0:
            name, reason, categories = f"game{i}.example", "blocked", mask_of(["gaming"])
        wire = text_to_wire(name)
        entries.append((ts, "192.168.1.20", wire, 1, 0, reason, 0.001, False, categories, "sam"))
    writer = Writer(tmp_path / "filterd.db", 365)
    writer.write(entries)
    writer.db.close()
    db = open_database(tmp_path / "filterd.db")
    ids = [row[0] for row in db.execute("SELECT id FROM queries WHERE name LIKE 'harm%'")]
    db.close()
    state = UsageStatusDb(tmp_path / "filterd.db")
    state.write_usage([(moment.date().isoformat(), "sam", "overall", 95, int(now // 60))])
    state.close()
    log = EventLog(tmp_path / "filterd.db", "filterd")
    checks = [
        {"name": "gambling: covered by a list", "ok": False, "detail": "no list has any name"}
    ]
    log.append(SELFTEST_FAILED, data={"ok": False, "seconds": 0.2, "checks": checks}, ts=start)
    for day in range(6):  # six good days after it: the failure must stay in the report
        ok = {"ok": True, "seconds": 0.2, "checks": []}
        log.append(SELFTEST_RESULT, data=ok, ts=start + (day + 1) * step)
    log.close()
    return month, ids


def test_the_monthly_pdf_says_what_a_review_needs(tmp_path):
    app = make_app(tmp_path, retention_days=365)  # the query log kept as filterd keeps it
    month, harm_ids = generate_month(tmp_path)
    db = connect(app.extensions["dashboard"].settings.database)
    record_reviews(db, harm_ids[:3], "discussed_with_child", "Talked at tea", "Dee")
    audit.record(db, "Jo", "rules.save", "sam", "Sam: adult: blocked -> allowed; reason: agreed")
    audit.record(db, "Zoë", "rules.save", "sam", "Sam: bedtime: 20:30 -> 21:00; reason: Łukasz")
    db.close()

    client = logged_in(app, "Dee", "safeguarding_lead")
    assert "evidence report (PDF)" in client.get("/audit/").get_data(as_text=True)
    reply = client.get(f"/reports/evidence.pdf?month={month}")
    assert reply.status_code == 200 and reply.mimetype == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(reply.data)).pages)
    text = " ".join(text.split())
    assert "Filtering and monitoring evidence" in text
    assert "Time online: 1 h 35 min" in text
    assert "self-harm 30" in text and "gaming" in text
    assert "High-risk blocks: 30; reviewed: 3." in text
    assert "Discussed with the child: 3" in text
    assert "Jo: Sam: adult: blocked -> allowed; reason: agreed" in text
    assert "Zoë: Sam: bedtime: 20:30 -> 21:00; reason: Łukasz" in text, "names as written"
    assert "not ok: gambling: covered by a list" in text
    assert "7 self-tests ran this month: 6 passed, 1 found problems" in text
    assert "Audit trail: intact (" in text

    carer = logged_in(app, "Cam", "carer")
    assert carer.get(f"/reports/evidence.pdf?month={month}").status_code == 403
    assert client.get("/reports/evidence.pdf?month=November").status_code == 400
