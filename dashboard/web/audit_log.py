"""The audit trail, newest first, a page at a time (every row stays reachable)."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, render_template, request

from dashboard.app import current_dashboard
from dashboard.data import audit
from dashboard.data.accounts import Permission
from dashboard.data.audit_words import shown
from dashboard.data.home_timezone import home_timezone
from dashboard.web.security import requires

blueprint = Blueprint("audit_log", __name__, template_folder="../templates")


@blueprint.record_once
def _add_nav_link(state) -> None:
    state.app.config["NAV_LINKS"].append(("audit_log.index", "Audit trail", Permission.AUDIT))


def page_number(text: str | None, pages: int) -> int:
    """The page asked for: 1 when absent; a 400 for anything that is not a page there is."""
    if text is None:
        return 1
    if not text.isdigit() or len(text) > 9 or not 1 <= int(text) <= max(pages, 1):
        abort(400, f"There is no page {text[:20]!r}: the audit trail has {max(pages, 1)}.")
    return int(text)


@blueprint.route("/audit/")
@requires(Permission.AUDIT)
def index():
    dashboard = current_dashboard()
    tz = home_timezone(dashboard.rules.read())
    db = dashboard.db()
    total = audit.count(db)
    pages = max(1, -(-total // audit.PAGE_SIZE))
    number = page_number(request.args.get("page"), pages)
    snapshot = dashboard.rules.read()
    children = snapshot.raw.get("children") if isinstance(snapshot.raw, dict) else None
    names = {
        str(child): str(body.get("name") or child)
        for child, body in (children or {}).items()
        if isinstance(body, dict)
    }
    entries = [
        (entry, shown(entry.action, entry.target, entry.detail, names, entry.user))
        for entry in audit.page(db, number)
    ]
    return render_template(
        "audit_log/index.html",
        entries=entries,
        page=number,
        pages=pages,
        total=total,
        clock=lambda ts: datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M:%S"),
    )
