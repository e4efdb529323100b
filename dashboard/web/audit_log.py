"""The audit trail: who changed which rule, paused, gave extra time, reviewed or exported."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, render_template

from dashboard.app import current_dashboard
from dashboard.data import audit
from dashboard.data.accounts import Permission
from dashboard.data.blocked_log import HOME_TZ
from dashboard.web.security import requires

blueprint = Blueprint("audit_log", __name__, template_folder="../templates")
SHOWN = 500


@blueprint.record_once
def _add_nav_link(state) -> None:
    state.app.config["NAV_LINKS"].append(("audit_log.index", "Audit trail", Permission.AUDIT))


@blueprint.route("/audit/")
@requires(Permission.AUDIT)
def index():
    dashboard = current_dashboard()
    rules = dashboard.rules.read().rules
    tz = rules.timezone if rules else HOME_TZ
    return render_template(
        "audit_log/index.html",
        entries=audit.recent(dashboard.db(), SHOWN),
        shown=SHOWN,
        clock=lambda ts: datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M:%S"),
    )
