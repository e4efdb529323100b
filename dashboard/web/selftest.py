"""Run the filter self-test now, from Health: filterd runs it (only it can ask its own chain as
each child's device) and the result appears on Health within a minute."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, url_for

from dashboard.app import current_dashboard
from dashboard.data import audit
from dashboard.data.accounts import Permission
from dashboard.web.security import requires
from filterd.selftest.requests import request

blueprint = Blueprint("selftest", __name__)


def may_run(user) -> bool:
    """Those who change or review the filtering check it; a viewer only reads the result."""
    return user.may(Permission.EDIT_RULES) or user.may(Permission.REVIEW)


@blueprint.route("/health/selftest", methods=["POST"])
@requires(Permission.VIEW)
def run_now():
    if not may_run(g.user):
        abort(403, "Your account cannot do this.")
    dashboard = current_dashboard()
    request(dashboard.config.database, by=g.user.name, source="dashboard")
    audit.record(dashboard.db(), g.user.name, "selftest.run", "filter self-test")
    flash("The self-test is running. Its result shows here in a minute: reload this page.", "ok")
    return redirect(url_for("health.index") + "#selftest-heading")
