"""The dashboard's Flask app factory: settings, data access and the blueprints, wired here."""

from __future__ import annotations

import contextlib
import secrets
import sqlite3
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g

from dashboard.data import accounts, rule_words, rules_errors, setup_code
from dashboard.data.db import connect
from dashboard.data.name_risk import NameRisk
from dashboard.data.rules_file import RulesFile
from dashboard.settings import check_dashboard_section, dashboard_settings
from filterd.catalogue.model import Catalogue
from filterd.catalogue.service import catalogue_beside
from filterd.config import Config, ConfigError, load_config
from filterd.db.events import EventLog
from filterd.db.read import FilterdReader
from filterd.db.retention import Retention
from filterd.events.kinds import RULES_SAVED
from filterd.lists.categories import label_of
from filterd.lists.settings import BlocklistSettings
from filterd.text.people import shown

MAX_REQUEST_BYTES = 256 * 1024  # forms and JSON only; nothing is uploaded


class Dashboard:
    """What every view needs, per app: the databases and the rules file."""

    def __init__(self, config: Config, config_path: Path | None = None) -> None:
        self.config = config
        self.config_path = config_path  # the settings file itself, for a backup (None: none)
        self.settings = dashboard_settings(config)
        # Exactly the file filterd reads; None (no `rules` key): nothing can be edited.
        self.rules_path = config.rules
        self.rules = RulesFile(self.rules_path, announce_save(config.database), NameRisk(config))
        self._lists_seen: tuple[int, int] | None = None  # the settings file's mtime and size
        self._lists = config.blocklists

    def blocklists(self) -> BlocklistSettings:
        """The settings' list part as the file says now (subscriptions added and filterd
        reloaded show on Health without a dashboard restart), read again only when the file
        changes; the last good one while the file is refused."""
        if self.config_path is None:
            return self._lists
        try:
            found = self.config_path.stat()
        except OSError:
            return self._lists
        seen = (found.st_mtime_ns, found.st_size)
        if seen != self._lists_seen:
            # a refused file: Health says so elsewhere; the last good lists stay shown
            with contextlib.suppress(ConfigError):
                self._lists = load_config(self.config_path, check_dashboard_section).blocklists
            self._lists_seen = seen
        return self._lists

    def db(self) -> sqlite3.Connection:
        """dashboard.db for this request."""
        if "dashboard_db" not in g:
            g.dashboard_db = connect(self.settings.database)
        return g.dashboard_db

    def catalogue(self) -> Catalogue:
        """The app catalogue filterd uses (beside its shipped lists), read again when it
        changes; the last good one if a new file is refused, empty if none was ever good."""
        return catalogue_beside(self.config.blocklists.lists_update.shipped)

    def filterd_db(self) -> FilterdReader:
        """filterd.db's read API for this request (reads as empty before filterd first ran)."""

        if "filterd_db" not in g:
            g.filterd_db = FilterdReader(
                self.config.database, Retention(self.config.query_log.retention_days)
            )
        return g.filterd_db


def announce_save(database: Path):
    """Each save is put in filterd's event log before the file is replaced, so filterd can
    tell the dashboard's saves from edits made to the file by hand."""

    def announce(version: str, by: str, changes: list[str]) -> None:
        if not database.exists():
            return  # filterd has never run: it has no rules in force to tell this save from
        log = EventLog(database, "dashboard")
        try:
            log.append(RULES_SAVED, data={"version": version, "by": by, "changes": changes})
        finally:
            log.close()

    return announce


def _rule_line(pair: tuple[str, str]) -> str:
    """An agreement's rules-in-force line in words, apps by their catalogue name."""
    names = {i: service.name for i, service in current_dashboard().catalogue().services.items()}
    return rule_words.line(pair[0], pair[1], names)


def _unprintable_in_pdf(version: Any, name: str) -> bool:
    """Whether the printed agreement would show some of its typed words as placeholders."""
    from dashboard.reports.agreement_pdf import texts_of
    from dashboard.reports.pdf import unprintable

    return bool(unprintable(texts_of(version, name)))


def current_dashboard() -> Dashboard:
    """The Dashboard of the app handling this request (views and request hooks use it)."""
    return current_app.extensions["dashboard"]


def _prepare_setup_code(database: Path) -> None:
    """Before anyone can reach the first-run page, the code it asks for exists."""
    db = connect(database)
    try:
        if not accounts.has_users(db):
            setup_code.ensure(database)
    finally:
        db.close()


def create_app(config: Config, config_path: Path | None = None) -> Flask:
    from dashboard.web import (
        account,
        agreements,
        agreements_api,
        alert_choices,
        api,
        apps,
        audit_log,
        auth,
        backup,
        blocked_review,
        child_leaving,
        children,
        device_record,
        device_record_api,
        devices,
        errors,
        health,
        home,
        people,
        practitioner,
        reports,
        security,
        selftest,
        setup,
    )

    dashboard = Dashboard(config, config_path)
    app = Flask(__name__)
    app.secret_key = secrets.token_bytes(32)  # signs only one-off messages (flash)
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        ALLOWED_HOSTS=set(dashboard.settings.allowed_hosts),
        # Flask's own cookie (it carries flash messages) gets the same flags as the session's.
        SESSION_COOKIE_NAME="__Host-filterd_flash",
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=True,
        # Posted before there is a session to hold a token; SameSite cookies and the host
        # allow-list stand in for it there.
        CSRF_EXEMPT={"auth.setup", "auth.login", "auth.login_code"},
    )
    app.jinja_env.finalize = shown
    app.add_template_filter(label_of, "category")  # a category id as a person reads it
    app.add_template_filter(_rule_line, "rule_line")  # an agreement's rule, apps by name
    app.add_template_filter(_unprintable_in_pdf, "unprintable_in_pdf")
    app.add_template_filter(rules_errors.for_file, "plain_file_problems")  # no key paths
    app.extensions["dashboard"] = dashboard
    _prepare_setup_code(dashboard.settings.database)
    security.install(app)
    errors.install(app)
    # Areas added by later blueprints put their links here: (endpoint, label, permission);
    # base.html shows a link only to those whose role grants the permission.
    app.config["NAV_LINKS"] = []
    app.context_processor(lambda: {"nav_links": app.config["NAV_LINKS"]})
    for module in (
        auth,
        setup,
        home,
        children,
        child_leaving,
        agreements,
        agreements_api,
        apps,
        devices,
        device_record,
        device_record_api,
        blocked_review,
        audit_log,
        people,
        practitioner,
        account,
        alert_choices,
        reports,
        health,
        selftest,
        backup,
        api,
    ):
        app.register_blueprint(module.blueprint)

    @app.teardown_appcontext
    def close(_: BaseException | None) -> None:
        for key in ("dashboard_db", "filterd_db"):
            db = g.pop(key, None)
            if db is not None:
                db.close()

    return app
