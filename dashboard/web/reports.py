"""The monthly evidence report, as a PDF download, for the safeguarding lead and administrators."""

from __future__ import annotations

import re
import time
from datetime import datetime

from flask import Blueprint, Response, abort, g, request

from dashboard.app import current_dashboard
from dashboard.data import audit
from dashboard.data.accounts import Permission
from dashboard.data.home_timezone import home_timezone
from dashboard.data.list_health import list_health
from dashboard.web.security import requires
from filterd.lists.update import read_status

blueprint = Blueprint("reports", __name__, template_folder="../templates")
MONTH = re.compile(r"(20\d\d)-(0[1-9]|1[0-2])").fullmatch


@blueprint.route("/reports/evidence.pdf")
@requires(Permission.AUDIT)
def evidence():
    dashboard = current_dashboard()
    snapshot = dashboard.rules.read()
    tz = home_timezone(snapshot)
    month = request.args.get("month") or datetime.now(tz).strftime("%Y-%m")
    if MONTH(month) is None:
        abort(400, "The month should look like 2026-11.")
    # fpdf (and fontTools under it) is loaded on the first PDF, not held by every dashboard
    from dashboard.reports.evidence import build

    document = build(
        month,
        dashboard.filterd_db(),
        dashboard.db(),
        snapshot.rules,
        snapshot.raw,
        read_status(dashboard.blocklists()),
        tz,
        list_health(dashboard.blocklists(), snapshot.rules, time.time()),
    )
    audit.record(dashboard.db(), g.user.name, "report.evidence", month)
    return Response(
        document,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="evidence-{month}.pdf"'},
    )
