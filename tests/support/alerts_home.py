"""A home whose alerts reach people, with real parts: filterd, the dashboard process and its
notifier, a real SMTP server process (tests/support/mail_receiver.py) and a real HTTP receiver
that checks each webhook's signature, all on one wall clock moved through $FILTERD_CLOCK_FILE,
so quiet hours and grouping windows are crossed in seconds. Sam (13-15) is the one child; Dee
(safeguarding lead), Ash (administrator) and the carers Cam and Bo have accounts. The
`make_alerts_home` fixture in tests/conftest.py makes them and stops every one it made."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import yaml

from dashboard.alerts.routing import set_email
from dashboard.data import accounts
from dashboard.data.db import connect
from filterd.rules.guards import with_end_line
from tests.support.dashboard_home import PASSWORD
from tests.support.dashboard_process import DashboardProcess
from tests.support.events import NO_DISCOVERY, SAM
from tests.support.filterd_process import free_port
from tests.support.lists import write_lists
from tests.support.mail_receiver import MailReceiver
from tests.support.wall_clock import london
from tests.support.webhook_receiver import WebhookReceiver

DIGEST_SUBJECTS = ("Daily summary:", "Weekly summary:", "Evidence report:")


class AlertsHome:
    """filterd, the dashboard, an SMTP server and a webhook receiver, on one moved clock."""

    def __init__(
        self,
        tmp_path: Path,
        start_filterd,
        when: str,
        smtp_running: bool = True,
        **sam: object,
    ):
        self.tmp_path = tmp_path
        self.clock = tmp_path / "clock"
        self.set_time(when)
        self.env = {"FILTERD_CLOCK_FILE": str(self.clock)}
        secret = tmp_path / "webhook-secret"
        secret.write_text("a signing key nobody else knows\n")
        secret.chmod(0o600)
        self.smtp = MailReceiver(free_port(), tmp_path / "mail")
        if smtp_running:
            self.smtp.start()
        self.hook = WebhookReceiver(free_port(), secret, tmp_path / "hooks.jsonl").start()
        rules = tmp_path / "rules.yaml"
        rules.write_text(
            with_end_line(
                yaml.safe_dump(
                    {
                        "timezone": "Europe/London",
                        "children": {"sam": {"name": "Sam Taylor", "age_band": "13_15", **sam}},
                        "devices": [{"ip": SAM, "name": "Sam's phone", "owner": "sam"}],
                    }
                )
            )
        )
        shipped = write_lists(
            tmp_path / "shipped",
            self_harm=[f"harm{i}.example" for i in range(12)],
            adult=["adult.example"],
            social=["social.example"],
            gaming=["game.example"],
        )
        self.dashboard_db = tmp_path / "dashboard.db"
        self.listen = f"127.0.0.1:{free_port()}"
        self.http_port = free_port()  # the block page, where a child asks for access
        self.filterd = start_filterd(
            rules=str(rules),
            lists_update={
                "directory": str(tmp_path / "lists"),
                "shipped": str(shipped),
                "refresh_hours": 0,
            },
            discovery=NO_DISCOVERY,
            env=self.env,
            dashboard={
                "listen": self.listen,
                "http_listen": f"127.0.0.1:{self.http_port}",
                "database": str(self.dashboard_db),
                "allowed_hosts": ["127.0.0.1"],
                "alerts": {
                    "link_base": "https://filterd.home.arpa",
                    "quiet_hours": {"start": "22:00", "end": "07:00"},
                    "email": {
                        "host": "127.0.0.1",
                        "port": self.smtp.port,
                        "security": "none",
                        "sender": "filterd@home.example",
                    },
                    "webhooks": [{"url": self.hook.url, "secret_file": str(secret)}],
                },
            },
        )
        self.accounts()
        self.dashboard = self.start_dashboard()

    def accounts(self) -> None:
        db = connect(self.dashboard_db)
        for name, role, address in (
            ("Dee", "safeguarding_lead", "dsl@home.example"),
            ("Ash", "administrator", ""),
            ("Cam", "carer", "carer@home.example"),
            ("Bo", "carer", "bo@home.example"),  # a carer who chooses nothing
        ):
            user = accounts.add_user(db, name, accounts.Role(role), PASSWORD)
            set_email(db, user.id, address)
        db.close()

    def start_dashboard(self) -> DashboardProcess:
        process = DashboardProcess(self.filterd.config_path, self.listen, self.tmp_path)
        return process.start(env=self.env)

    def set_time(self, when: str) -> None:
        self.clock.write_text(str(london(when) - time.time()))
        time.sleep(0.7)  # filterd re-reads the clock file twice a second

    def mail_to(self, address: str) -> list:
        """Alerts to this address (digests apart: see digests_to)."""
        return [
            m
            for m in self.smtp.messages()
            if m["To"] == address and not m["Subject"].startswith(DIGEST_SUBJECTS)
        ]

    def digests_to(self, address: str) -> list:
        return [
            m
            for m in self.smtp.messages()
            if m["To"] == address and m["Subject"].startswith(DIGEST_SUBJECTS)
        ]

    def alerts(self) -> list[tuple]:
        with sqlite3.connect(self.dashboard_db) as db:
            return db.execute(
                "SELECT recipient, count, held, state, attempts FROM alerts"
                " WHERE group_key NOT LIKE 'daily:%' AND group_key NOT LIKE 'weekly:%'"
                " AND group_key NOT LIKE 'monthly:%'"
                " ORDER BY id"
            ).fetchall()

    def stop(self) -> None:
        self.dashboard.stop()
        self.smtp.stop()
        self.hook.stop()
