"""The notifier, a thread in the dashboard's service: reads new events from filterd's event log,
queues the messages routing and grouping call for, and sends what is due.

Each pass: (1) events after the stored cursor are read through filterd.db.events' read API
and their messages queued in one dashboard.db transaction with the new cursor; (2) due
messages are sent, each marked before and after, failures put back with a growing wait. The
first pass ever starts at the newest event: a new dashboard does not mail the past.
"""

from __future__ import annotations

import base64
import html
import logging
import smtplib
import sqlite3
import threading
from collections import defaultdict

from dashboard.alerts import (
    agreement_reviews,
    digest,
    email_sender,
    routing,
    webhook_sender,
)
from dashboard.alerts.content import describe, group_key
from dashboard.alerts.message import compose
from dashboard.alerts.settings import SecretError
from dashboard.data import alert_outbox, audit, records
from dashboard.data.alert_outbox import Queued, Route
from dashboard.data.db import connect
from dashboard.data.hash_chain import Witness
from dashboard.data.home_timezone import HOME_TZ
from dashboard.data.list_health import list_health
from dashboard.data.rules_file import RulesFile
from dashboard.settings import DashboardSettings
from filterd.catalogue.service import catalogue_beside
from filterd.clock import clock_from_environment
from filterd.config import Config
from filterd.db.read import FilterdReader
from filterd.db.retention import Retention
from filterd.events.kinds import RULES_EDITED_BY_HAND
from filterd.lists.update import read_status
from filterd.text.redact import redact_text

log = logging.getLogger(__name__)

PASS_INTERVAL = 1.0  # seconds between passes: an urgent alert leaves within seconds
BATCH = 500
HAND_EDITOR = "(edited by hand)"  # who, in the audit trail, for changes made outside it


class Notifier:
    def __init__(self, config: Config, settings: DashboardSettings) -> None:
        self.config = config
        self.settings = settings
        self.alerts = settings.alerts
        self.rules = RulesFile(config.rules)
        self.clock = clock_from_environment()  # the wall clock (tests and demos may move it)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._log_at_start: int | None = None  # the event log's newest id when started
        self._witnessed: dict[str, Witness] = {}  # the records' newest rows last witnessed

    def app_names(self) -> dict[str, str]:
        """The app catalogue's names by id (an empty map when no catalogue can be read)."""
        shipped = self.config.blocklists.lists_update.shipped
        return {i: s.name for i, s in catalogue_beside(shipped).services.items()}

    def start(self) -> None:
        """Alerts begin with the events after this moment the first time the dashboard runs
        (history from before is not sent), whenever its first pass comes."""
        source = FilterdReader(
            self.config.database, Retention(self.config.query_log.retention_days)
        )
        try:
            self._log_at_start = source.newest_event_id()
        finally:
            source.close()
        self._thread = threading.Thread(target=self._run, name="notifier", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # the notifier must outlive any one bad pass
                log.exception("notifier pass failed")
            self._stop.wait(PASS_INTERVAL)

    def run_once(self) -> None:
        refresh = getattr(self.clock, "refresh", None)
        if refresh is not None:
            refresh()
        db = connect(self.settings.database)
        try:
            self.witness_records(db)
            self.ingest(db)
            self.remind_reviews(db, self.clock.time())  # its events are read on the next pass
            self.queue_digests(db, self.clock.time())
            self.deliver(db, self.clock.time())
        finally:
            db.close()

    def witness_records(self, db: sqlite3.Connection) -> bool:
        """The audit trail's and reviews' newest rows into filterd's event log, when new."""
        if records.heads(db) == self._witnessed:
            return False  # the usual pass: nothing recorded since
        reader = FilterdReader(
            self.config.database, Retention(self.config.query_log.retention_days)
        )
        try:
            return records.witness(db, self.config.database, self._witnessed, reader)
        finally:
            reader.close()

    def remind_reviews(self, db: sqlite3.Connection, now: float) -> int:
        """Agreements due for review (or past it) become events, each once. (Drafts after a
        rules change are started by the pages, once the change's audit entry is written, so
        each draft lists the change behind it.)"""
        rules = self.rules.read().rules
        tz = rules.timezone if rules is not None else HOME_TZ
        return agreement_reviews.remind(
            db,
            rules,
            self.config.database,
            now,
            tz,
            lambda kind: bool(self.routes(db, kind.name, kind.severity)),
        )

    def ingest(self, db: sqlite3.Connection) -> int:
        """Queue the messages for new events; how many events were read."""
        source = FilterdReader(
            self.config.database, Retention(self.config.query_log.retention_days)
        )
        try:  # before filterd has made its event log, there is nothing to read
            after = alert_outbox.cursor(db)
            if after is None:  # the first pass ever: from where the log was at start
                after = (
                    self._log_at_start
                    if self._log_at_start is not None
                    else (source.newest_event_id())
                )
                alert_outbox.set_cursor(db, after)
                db.commit()
            events = source.events_after(after, BATCH)
        finally:
            source.close()
        if not events:
            return 0
        snapshot = self.rules.read()
        rules = snapshot.rules
        tz = rules.timezone if rules is not None else HOME_TZ
        a = self.alerts
        window = a.group_minutes * 60
        for event in events:
            routes = self.routes(db, event.kind, event.severity)
            if routes:
                content = describe(event, rules, tz, a.link_base, self.app_names())
                categories = event.data.get("categories") or []
                hold = None
                if not routing.urgent(event.kind, categories):
                    hold = alert_outbox.quiet_until(event.ts, tz, a.quiet_start, a.quiet_end)
                for route in routes:
                    alert_outbox.queue(
                        db, route, group_key(event), event.id, event.ts, content, window, hold
                    )
            alert_outbox.set_cursor(db, event.id)
            if event.kind == RULES_EDITED_BY_HAND.name:  # into the audit trail, same commit
                changes = "; ".join(event.data.get("changes", [])) or "no change"
                audit.record(db, HAND_EDITOR, audit.RULES_HAND_EDIT, "rules file", changes)
        db.commit()  # the messages and the cursor together: never lost, never queued twice
        return len(events)

    def queue_digests(self, db: sqlite3.Connection, now: float) -> int:
        """Queue each digest whose time has come, once (the record of it in the same commit)."""
        if self.alerts.email is None:
            return 0
        rules = self.rules.read().rules
        tz = rules.timezone if rules is not None else HOME_TZ
        queued = 0
        for period in digest.due_periods(now, tz, self.alerts.digest_at):
            if alert_outbox.digest_queued(db, period.key):
                continue
            source = FilterdReader(
                self.config.database, Retention(self.config.query_log.retention_days), now
            )
            try:
                if period.kind == digest.MONTHLY:
                    message = self._monthly(period, source, db, tz)
                else:
                    lists = list_health(self.config.blocklists, rules, now)
                    message = digest.build(period, source, db, rules, self.alerts.link_base, lists)
            finally:
                source.close()
            content = {"digest": message, "title": message["subject"]}
            for to in routing.email_recipients(db, period.kind):
                alert_outbox.queue(db, Route("email", to), period.key, 0, now, content, 0.0, None)
                queued += 1
            alert_outbox.record_digest(db, period.key, now)
            db.commit()
        return queued

    def _monthly(self, period, source, db: sqlite3.Connection, tz) -> dict:
        """The evidence report of the month before, attached to a short email."""
        from dashboard.reports import evidence  # fpdf loaded once a month, not held (RSS)

        snapshot = self.rules.read()
        month = period.days[0][:7]
        document = evidence.build(
            month, source, db, snapshot.rules, snapshot.raw,
            read_status(self.config.blocklists), tz,
            list_health(self.config.blocklists, snapshot.rules, self.clock.time()),
        )  # fmt: skip
        subject = f"Evidence report: {period.label}"
        text = (
            f"The filtering and monitoring evidence report for {period.label} is attached"
            f" (PDF). It is also on the dashboard: {self.alerts.link_base}/audit/\n"
        )
        attachment = {
            "name": f"evidence-{month}.pdf",
            "base64": base64.b64encode(document).decode(),
        }
        page = f"<p>{html.escape(text)}</p>"
        return {"subject": subject, "text": text, "html": page, "attachment": attachment}

    def routes(self, db: sqlite3.Connection, kind: str, severity: str) -> list[Route]:
        found = []
        if self.alerts.email is not None:
            found += [Route("email", to) for to in routing.email_recipients(db, kind)]
        found += [
            Route("webhook", hook.url)
            for hook in self.alerts.webhooks
            if severity in hook.severities
        ]
        return found

    def deliver(self, db: sqlite3.Connection, now: float) -> int:
        """Send what is due; how many messages were accepted."""
        batches: list[list[Queued]] = []
        held: dict[tuple[str, str], list[Queued]] = defaultdict(list)
        for alert in alert_outbox.due(db, now):
            if alert.held:
                held[(alert.channel, alert.recipient)].append(alert)  # one morning summary
            else:
                batches.append([alert])
        batches += held.values()
        sent = 0
        for batch in batches:
            ids = [a.id for a in batch]
            alert_outbox.mark_sending(db, ids)
            try:
                self._send(batch)
            except (OSError, smtplib.SMTPException, SecretError) as err:
                reason = redact_text(str(err))  # a webhook's address may carry its token
                log.warning(
                    "alert to %s not sent, will retry: %s",
                    redact_text(batch[0].recipient),
                    reason,
                )
                alert_outbox.mark_failed(db, ids, self.clock.time(), reason)
                continue
            alert_outbox.mark_sent(db, ids, self.clock.time())
            sent += 1
        return sent

    def _send(self, batch: list[Queued]) -> None:
        first = batch[0]
        message = compose(batch)
        if first.channel == "email":
            if self.alerts.email is None:
                raise OSError("no mail server is configured")
            email_sender.send(self.alerts.email, first.recipient, message, first.uid)
            return
        hook = next((h for h in self.alerts.webhooks if h.url == first.recipient), None)
        if hook is None:
            raise OSError("this webhook is no longer configured")
        webhook_sender.send(hook, message, first.uid)
