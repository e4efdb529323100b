"""The child side's WSGI app: every host name the plain-HTTP listener does not send to the
dashboard (a blocked answer pointed it at this box) gets the block page.

It has no login and no cookies: what it shows is worked out from the device's address alone
(dashboard/child_side/why.py), so it never holds anything another device could read.
"""

from __future__ import annotations

import sqlite3
import threading
from urllib.parse import urlsplit

from flask import Flask, Response, redirect, render_template, request

from dashboard.child_side.helplines import BY_CATEGORY, helplines_for
from dashboard.child_side.own_page import answer_words, what_applies
from dashboard.child_side.why import RECENT, Why, child_of, explain, general
from dashboard.data import access_requests, agreements
from dashboard.data.db import connect
from dashboard.data.rules_file import RulesFile
from dashboard.plain_http import CHILD_PAGE
from dashboard.settings import dashboard_settings
from filterd.catalogue.model import Catalogue
from filterd.catalogue.service import catalogue_beside
from filterd.clock import clock_from_environment
from filterd.config import Config
from filterd.db.events import EventLog
from filterd.db.read import FilterdReader
from filterd.db.retention import Retention
from filterd.dns.query import Reason
from filterd.events.kinds import ACCESS_REQUESTED
from filterd.lists.categories import mask_of
from filterd.lists.service import load_protected
from filterd.lists.store import ListStore
from filterd.lists.update import index_path
from filterd.text.people import shown, text_problem

NOT_ASKABLE = "This site cannot be asked for from here. You can talk to a grown-up you trust."
# Bedtime and a pause are lifted from the carer's own screen, not asked for site by site.
NOT_NOW: dict[Reason, str] = {
    Reason.OFFLINE: "It is bedtime now, so sites cannot be asked for. Sleep well! You can ask a"
    " grown-up who looks after you tomorrow.",
    Reason.PAUSED: "A grown-up has paused the internet on this device for now, so sites cannot be"
    " asked for. You can talk to them about it.",
}
FOREIGN = "That request did not come from this page, so it was not sent."
TOO_MANY = (
    "You have asked a lot of times this hour, so this one was not sent. Try again later,"
    " or talk to a grown-up who looks after you."
)
DAY = 86_400.0  # a request from the child's own page: a block from today
MAX_HOST = 253  # a DNS name's longest presentation form
# Only the page's own inline style; no scripts, images, frames or forms sent elsewhere.
POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def blocked_host(host_header: str) -> str:
    """The site's name from the Host header (lower case, no port); '' when it is not a name."""
    host = (urlsplit("//" + host_header).hostname or "").rstrip(".")
    if not host or len(host) > MAX_HOST:
        return ""
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789-._")
    return host if set(host) <= allowed else ""


def create_child_app(config: Config) -> Flask:
    """The block page app for the plain-HTTP listener's other host names."""
    rules_file = RulesFile(config.rules)
    settings = dashboard_settings(config)
    clock = clock_from_environment()
    shipped = config.blocklists.lists_update.shipped

    def catalogue() -> Catalogue:
        return catalogue_beside(shipped)

    # The lists filterd answers from, so the page can judge a name as filterd did when the
    # log row for its block is not written yet (the index is reread only when it changes).
    lists = ListStore(index_path(config.blocklists), *load_protected(config.blocklists))
    floor = mask_of(config.blocklists.block_categories)
    swapping = threading.Lock()  # one thread swaps a new index in

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 4096
    app.jinja_env.finalize = shown

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers["Cache-Control"] = "no-store"  # an unblock must show at once
        response.headers["Content-Security-Policy"] = POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"  # a helpline never learns the site
        return response

    def now() -> float:
        refresh = getattr(clock, "refresh", None)
        if refresh is not None:
            refresh()
        return clock.time()

    def why_here(host: str, client: str, moment: float, recent: float = RECENT) -> Why:
        filterd_db = None
        try:
            filterd_db = FilterdReader(config.database, Retention(config.query_log.retention_days))
            rules = rules_file.read().rules
            with swapping:
                lists.refresh()
            return explain(
                rules, client, host, filterd_db, moment, catalogue(), recent, lists, floor
            )
        except sqlite3.Error:
            return general()  # filterd.db busy or damaged: the page still explains and helps
        finally:
            if filterd_db is not None:
                filterd_db.close()

    def page(why: Why, host: str, status: int = 200, **extra: str) -> tuple[str, int]:
        return render_template(
            "child_side/blocked.html",
            why=why,
            host=host,
            max_message=access_requests.MAX_MESSAGE,
            asked=request.args.get("asked") == "1",
            **extra,
        ), status

    def own_page(status: int = 200, **extra: str) -> tuple[str, int]:
        client = request.remote_addr or ""
        moment = now()
        rules = rules_file.read().rules
        reader = FilterdReader(config.database, Retention(config.query_log.retention_days))
        try:
            profile = None if rules is None else child_of(rules, client, reader)
            lines = (
                [] if profile is None else what_applies(rules, profile, reader, moment, catalogue())
            )
        finally:
            reader.close()
        asked, agreed = [], []
        if profile is not None:
            db = connect(settings.database)
            try:
                asked = access_requests.of_child(db, profile.id, moment)
                agreed = agreements.for_child(db, profile.id)
            finally:
                db.close()
        page = render_template(
            "child_side/me.html",
            known=profile is not None,
            lines=lines,
            agreed=agreed,
            asked=[(r, answer_words(r)) for r in asked],
            helplines=helplines_for(tuple(BY_CATEGORY)),  # every service: any worry
            max_message=access_requests.MAX_MESSAGE,
            sent=request.args.get("asked") == "1",
            **extra,
        )
        return page, status

    @app.route(CHILD_PAGE, methods=["GET", "HEAD"])
    def me() -> tuple[str, int]:
        host = blocked_host(request.headers.get("Host", ""))
        if host not in settings.allowed_hosts:
            return block_page("me")  # a blocked site's own /me is that site's block page
        return own_page()

    @app.route(CHILD_PAGE, methods=["POST"])
    def ask_from_own_page() -> Response | tuple[str, int]:
        """A request for access to a site the child names (an https:// site, where no
        block page showed): only one filterd blocked for this device today can be asked for."""
        host = blocked_host(request.headers.get("Host", ""))
        if host not in settings.allowed_hosts:
            return ask("me")
        origin = request.headers.get("Origin")
        if origin is not None and urlsplit(origin).netloc != request.headers.get("Host", ""):
            return own_page(403, ask_problem=FOREIGN)
        site = blocked_host(request.form.get("site", "").strip().lower())
        if not site:
            return own_page(400, ask_problem="Write the site's name, like games.example.com.")
        why = why_here(site, request.remote_addr or "", now(), DAY)
        return store_request(why, site, lambda status, words: own_page(status, ask_problem=words))

    @app.route("/", defaults={"_path": ""}, methods=["GET", "HEAD"])
    @app.route("/<path:_path>", methods=["GET", "HEAD"])
    def block_page(_path: str) -> tuple[str, int]:
        host = blocked_host(request.headers.get("Host", ""))
        return page(why_here(host, request.remote_addr or "", now()), host)

    @app.route("/", defaults={"_path": ""}, methods=["POST"])
    @app.route("/<path:_path>", methods=["POST"])
    def ask(_path: str) -> Response | tuple[str, int]:
        """A request for access to this site, from the child's device; no login, so it is
        capped per device and its message bounded; never for illegal content."""
        host = blocked_host(request.headers.get("Host", ""))
        client = request.remote_addr or ""
        moment = now()
        why = why_here(host, client, moment)
        origin = request.headers.get("Origin")
        if origin is not None and urlsplit(origin).netloc != request.headers.get("Host", ""):
            return page(why, host, 403, ask_problem=FOREIGN)  # another site's page posting
        if not host:
            return page(why, host, 403, ask_problem=NOT_ASKABLE)
        return store_request(
            why, host, lambda status, words: page(why, host, status, ask_problem=words)
        )

    def store_request(why: Why, host: str, refuse) -> Response | tuple[str, int]:
        """Check and keep one request for access; `refuse(status, words)` renders a no."""
        client = request.remote_addr or ""
        moment = now()
        if not why.can_ask:
            return refuse(403, NOT_NOW.get(why.blocked_by, NOT_ASKABLE))
        message = request.form.get("message", "").strip()
        problem = text_problem(message, access_requests.MAX_MESSAGE) if message else None
        if problem is not None:
            words = f"Your message could not be sent: {problem}. Write it again, shorter."
            return refuse(400, words)
        db = connect(settings.database)
        try:
            if access_requests.recent_from(db, client, moment) >= access_requests.PER_HOUR:
                return refuse(429, TOO_MANY)
            access_requests.add(
                db, moment, client, why.child, why.device, host, why.reason, message
            )
        finally:
            db.close()
        if config.database.exists():  # the event log is filterd's; it exists once filterd ran
            log = EventLog(config.database, "dashboard")
            try:
                data = {"site": host, "reason": why.reason}
                log.append(  # stamped with the box's clock, as the request itself is
                    ACCESS_REQUESTED, child=why.child, device=client, data=data, ts=moment
                )
            finally:
                log.close()
        return redirect(request.path + "?asked=1", 303)

    return app
