"""The home page: every child at a glance, with one-tap pause, +30 minutes and lift bedtime."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from dashboard.app import current_dashboard
from dashboard.data import audit, quick_actions
from dashboard.data.accounts import Permission
from dashboard.data.activity import child_summaries, rules_status
from dashboard.data.applied import not_applied
from dashboard.data.rules_file import StaleEdit
from dashboard.web.security import requires
from filterd.rules.parse import DEFAULT_TIMEZONE, RulesError

blueprint = Blueprint("home", __name__, template_folder="../templates")


@blueprint.route("/")
@requires(Permission.VIEW)
def index():
    snapshot = current_dashboard().rules.read()
    children = (
        child_summaries(
            current_dashboard().filterd_db(),
            snapshot.rules,
            catalogue=current_dashboard().catalogue(),
        )
        if snapshot.rules
        else []
    )
    rules_file = current_dashboard().rules
    tz = snapshot.rules.timezone if snapshot.rules else ZoneInfo(DEFAULT_TIMEZONE)
    status = rules_status(current_dashboard().filterd_db())
    return render_template(
        "home/index.html",
        children=children,
        version=snapshot.version,
        problems=snapshot.problems,
        status=status,
        not_applied=not_applied(status, snapshot.version, rules_file.modified(), time.time(), tz),
    )


@blueprint.route("/children/<child>/quick", methods=["POST"])
@requires(Permission.EDIT_RULES)
def quick_action(child: str):
    """pause, resume, extra (30 minutes today) or lift_bedtime (until a time)."""
    action = request.form.get("action", "")
    until = request.form.get("until", "")
    try:
        rules = quick_actions.apply(
            current_dashboard().rules,
            child,
            action,
            until,
            request.form.get("version", ""),
            datetime.now(UTC),
            g.user,
        )
    except (quick_actions.ActionError, StaleEdit) as err:
        flash(str(err), "error")
        return redirect(url_for("home.index"))
    except RulesError as err:
        flash("Not saved: " + "; ".join(err.problems), "error")
        return redirect(url_for("home.index"))
    audit.record(current_dashboard().db(), g.user.name, f"child.{action}", child, until)
    flash(f"Done: {action.replace('_', ' ')} for {rules.children[child].name}.", "ok")
    return redirect(url_for("home.index"))
