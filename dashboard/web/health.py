"""Health: each check of the box in plain words with what to do (dashboard.data.health_checks),
the lists per category, the self-tests, and whether the audit trail and the reviews are as they
were written (their hash chains intact)."""

from __future__ import annotations

import time
from datetime import datetime

from flask import Blueprint, render_template

from dashboard.app import current_dashboard
from dashboard.data import alert_outbox, records
from dashboard.data.accounts import Permission
from dashboard.data.health_checks import Clock, health_checks, refused_problems
from dashboard.data.home_timezone import home_timezone
from dashboard.data.list_health import list_health
from dashboard.web.security import requires
from filterd.db.read import FilterdReader
from filterd.events.kinds import SELFTEST_KINDS

blueprint = Blueprint("health", __name__, template_folder="../templates")


@blueprint.route("/health")
@requires(Permission.VIEW)
def index():
    dashboard = current_dashboard()
    snapshot = dashboard.rules.read()
    tz = home_timezone(snapshot)
    reader = dashboard.filterd_db()
    names = child_names_for_problems(snapshot)
    return render_template(
        "health/index.html",
        checks=box_checks(dashboard, reader, names, Clock(tz, time.time())),
        refused=refused_problems(reader.rules_status(), names),
        snapshot=snapshot,
        lists=list_health(dashboard.blocklists(), snapshot.rules, time.time()),
        selftest=last_selftest(reader),
        profile_selftest=last_selftest(reader, "profiles"),
        records=records.check(dashboard.db(), reader),
        now=time.time(),
        clock=lambda ts: datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M"),
    )


def child_names_for_problems(snapshot) -> dict[str, str]:
    """{child id: name} from the rules file, so filterd's problems name the child (from the
    file as written when it is refused: that is when the names are needed)."""
    if snapshot.rules is not None:
        return {c.id: c.name for c in snapshot.rules.children.values()}
    children = snapshot.raw.get("children") if isinstance(snapshot.raw, dict) else None
    if not isinstance(children, dict):
        return {}
    return {
        str(key): str(child["name"])
        for key, child in children.items()
        if isinstance(child, dict) and isinstance(child.get("name"), str)
    }


def box_checks(dashboard, reader: FilterdReader, names: dict[str, str], clock: Clock) -> list:
    """Health's checks of the box (dashboard.data.health_checks), for Health and the banner."""
    settings = dashboard.settings
    alerts = alert_outbox.stuck(dashboard.db())
    return health_checks(
        reader, dashboard.config.database, settings.disk_warning_mb, names, clock, alerts
    )


def last_selftest(reader: FilterdReader, scope: str = "") -> dict | None:
    """The newest filter self-test result from filterd's event log (None before the first):
    the household's (`filterd selftest`) or, with scope "profiles", each child's."""
    found = reader.latest_event(SELFTEST_KINDS, scope)
    return None if found is None else {"ts": found.ts, **found.data}
