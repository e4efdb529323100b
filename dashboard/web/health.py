"""Health: is filterd answering, when were the rules last loaded and were they refused."""

from __future__ import annotations

import time

from flask import Blueprint, render_template

from dashboard.app import current_dashboard
from dashboard.data.accounts import Permission
from dashboard.data.activity import rules_status
from dashboard.web.security import requires

blueprint = Blueprint("health", __name__, template_folder="../templates")


@blueprint.route("/health")
@requires(Permission.VIEW)
def index():
    dashboard = current_dashboard()
    db = dashboard.filterd_db()
    last_query = None
    if db is not None:
        last_query = db.execute("SELECT max(ts) FROM queries").fetchone()[0]
    lists_status = dashboard.config.blocklists.lists_update.directory / "status.json"
    return render_template(
        "health/index.html",
        rules=rules_status(db),
        snapshot=dashboard.rules.read(),
        last_query=last_query,
        lists_status=lists_status.read_text() if lists_status.exists() else None,
        now=time.time(),
    )
