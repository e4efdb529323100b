"""The child side's WSGI app: every host name the plain-HTTP listener does not send to the
dashboard (a blocked answer pointed it at this box) gets the block page.

It has no login and no cookies: what it shows is worked out from the device's address alone
(dashboard/child_side/why.py), so it never holds anything another device could read.
"""

from __future__ import annotations

import sqlite3
from urllib.parse import urlsplit

from flask import Flask, Response, render_template, request

from dashboard.child_side.why import explain, general
from dashboard.data.rules_file import RulesFile
from filterd.catalogue.load import CatalogueError, catalogue_at
from filterd.catalogue.model import EMPTY, Catalogue
from filterd.catalogue.service import catalogue_path
from filterd.clock import clock_from_environment
from filterd.config import Config
from filterd.db.read import FilterdReader
from filterd.db.retention import Retention
from filterd.text import shown

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
    clock = clock_from_environment()
    shipped = config.blocklists.lists_update.shipped

    def catalogue() -> Catalogue:
        try:
            return catalogue_at(catalogue_path(shipped))
        except CatalogueError:
            return EMPTY

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 4096
    app.jinja_env.finalize = shown

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers["Cache-Control"] = "no-store"  # an unblock must show at once
        response.headers["Content-Security-Policy"] = POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    @app.route("/", defaults={"_path": ""}, methods=["GET", "HEAD"])
    @app.route("/<path:_path>", methods=["GET", "HEAD"])
    def block_page(_path: str) -> str:
        refresh = getattr(clock, "refresh", None)
        if refresh is not None:
            refresh()
        host = blocked_host(request.headers.get("Host", ""))
        client = request.remote_addr or ""
        filterd_db = None
        try:
            filterd_db = FilterdReader(config.database, Retention(config.query_log.retention_days))
            rules = rules_file.read().rules
            why = explain(rules, client, host, filterd_db, clock.time(), catalogue())
        except sqlite3.Error:
            why = general()  # filterd.db busy or damaged: the page still explains and helps
        finally:
            if filterd_db is not None:
                filterd_db.close()
        return render_template("child_side/blocked.html", why=why, host=host)

    return app
