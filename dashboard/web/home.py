"""The home page: every child at a glance, with one-tap pause, +30 minutes and lift bedtime."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from dashboard.actions import ActionError, Failure, access, quick
from dashboard.actions import agreements as agreement_actions
from dashboard.app import current_dashboard
from dashboard.data import access_requests, agreements, blocked_log
from dashboard.data.accounts import Permission
from dashboard.data.activity import child_summaries, hides_high_risk
from dashboard.data.applied import not_applied
from dashboard.data.health_checks import Clock
from dashboard.data.home_timezone import home_timezone
from dashboard.web.health import box_checks, child_names_for_problems
from dashboard.web.security import requires
from filterd.lists.index import domain_to_wire

PAUSE_CHOICES = (
    ("15", "15 minutes"),
    ("30", "30 minutes"),
    ("60", "1 hour"),
    ("", "until I resume"),
)

ALERT_DAYS = 7  # the home page asks about high-risk blocks of this many days not yet reviewed

blueprint = Blueprint("home", __name__, template_folder="../templates")


@blueprint.app_context_processor
def _attention() -> dict[str, Any]:
    """Things the home page asks about, worked out only when a page asks for them."""

    def unreviewed_high_risk() -> int:
        user = g.get("user")
        if user is None or not user.may(Permission.REVIEW):
            return 0
        dashboard = current_dashboard()
        return blocked_log.unreviewed_high_risk(dashboard.filterd_db(), dashboard.db(), ALERT_DAYS)

    return {"unreviewed_high_risk": unreviewed_high_risk, "alert_days": ALERT_DAYS}


@blueprint.route("/")
@requires(Permission.VIEW)
def index():
    snapshot = current_dashboard().rules.read()
    children = (
        child_summaries(
            current_dashboard().filterd_db(),
            snapshot.rules,
            hide_high_risk=hides_high_risk(g.user),
            catalogue=current_dashboard().catalogue(),
            raw=snapshot.raw,
        )
        if snapshot.rules
        else []
    )
    rules_file = current_dashboard().rules
    tz = home_timezone(snapshot)
    status = current_dashboard().filterd_db().rules_status()
    now = time.time()
    if snapshot.rules is not None:
        agreement_actions.follow_rules(current_dashboard(), now)
    db = current_dashboard().db()
    agreement_status = {
        child.id: agreements.status(db, child.id, snapshot.rules.children.get(child.id), now, tz)
        for child in children
    }
    asked = access_requests.waiting(db, now)
    children_rules = snapshot.rules.children if snapshot.rules is not None else {}
    risky = _high_risk_site(rules_file)
    return render_template(
        "home/index.html",
        children=children,
        version=snapshot.version,
        problems=snapshot.problems,
        status=status,
        not_applied=not_applied(status, snapshot.version, rules_file.modified(), time.time(), tz),
        stopping=stopping_checks(snapshot, tz),
        requests=asked,
        approvals={r.id: access.choices(children_rules.get(r.child)) for r in asked},
        high_risk={r.id for r in asked if risky(r.site)},
        apps_of={r.id: app for r in asked if (app := _app_of(r.site))},
        names={c.id: c.name for c in children},
        pause_choices=PAUSE_CHOICES,
        agreement_status=agreement_status,
        review_words=agreements.review_words,
    )


def _high_risk_site(rules_file):
    """Whether the lists in force put a site in a high-risk category (asks for a reason)."""
    risk = rules_file.risk() if rules_file.risk is not None else None
    if risk is None:
        return lambda site: False
    return lambda site: bool(risk.risky_names(frozenset({domain_to_wire(site)})))


def stopping_checks(snapshot, tz) -> list:
    """Health's checks that are wrong and stop filtering or bedtime (the banner). Rules not
    in force have their own banner above it (`not_applied`), so they are not said twice."""
    dashboard = current_dashboard()
    checks = box_checks(
        dashboard,
        dashboard.filterd_db(),
        child_names_for_problems(snapshot),
        Clock(tz, time.time()),
    )
    return [c for c in checks if c.stops_filtering and not c.ok and c.key != "rules"]


@blueprint.route("/children/<child>/quick", methods=["POST"])
@requires(Permission.EDIT_RULES)
def quick_action(child: str):
    """pause (for `until` minutes, or until resumed), resume, extra (30 minutes on today's
    limit), extra_bedtime (bedtime 30 minutes later), lift_bedtime (until a time) or undo."""
    action = request.form.get("action", "")
    until = request.form.get(f"until_{action}", request.form.get("until", ""))
    try:
        done = quick.quick_action(
            current_dashboard(),
            g.user,
            child,
            action,
            until,
            request.form.get("version", ""),
            datetime.now(UTC),
        )
    except ActionError as err:
        flash(str(err), "error")
        return redirect(url_for("home.index"))
    flash(done.message, "ok")
    return redirect(url_for("home.index"))


@blueprint.route("/children/everyone/pause", methods=["POST"])
@requires(Permission.EDIT_RULES)
def pause_everyone():
    """Pause (for a while, or until resumed) or resume every child at once."""
    try:
        message = quick.everyone(
            current_dashboard(),
            g.user,
            request.form.get("action", ""),
            request.form.get("until", ""),
            request.form.get("version", ""),
            datetime.now(UTC),
        )
    except ActionError as err:
        flash(str(err), "error")
        return redirect(url_for("home.index"))
    flash(message, "ok")
    return redirect(url_for("home.index"))


@blueprint.route("/access/<int:request_id>/approve", methods=["POST"])
@requires(Permission.EDIT_RULES)
def approve_access(request_id: int):
    """Yes to a child's request for access: 30 minutes, 1 hour, until bedtime or always."""
    wanted = access_requests.get(current_dashboard().db(), request_id)
    try:
        answer = access.approve(
            current_dashboard(),
            g.user,
            request_id,
            request.form.get("how", ""),
            request.form.get("version", ""),
            datetime.now(UTC),
            request.form.get("reason", ""),
        )
    except ActionError as err:
        if err.failure is Failure.REASON_NEEDED:
            flash(
                "That site is in a high-risk category, so allowing it always needs a reason."
                " Write why in the reason box, or allow it for a while instead.",
                "error",
            )
            return redirect(url_for("home.index") + f"#request-{request_id}")
        flash(str(err), "error")
        return redirect(url_for("home.index"))
    app = _app_of(wanted.site) if wanted is not None else None
    if app is None:
        flash(f"Allowed {answer}. It works on their device within 2 seconds.", "ok")
    else:  # the app's other names stay as they were: say so, not "it works"
        flash(
            f"Allowed {answer}: the website {wanted.site} only, within 2 seconds. The {app}"
            f" app uses other names too, so it may still not work; to let the app work, allow"
            f" {app} on the child's Apps screen.",
            "ok",
        )
    return redirect(url_for("home.index"))


def _app_of(site: str) -> str | None:
    """The app (in the catalogue filterd uses) a site's name belongs to, if any."""
    service = current_dashboard().catalogue().service_of(domain_to_wire(site))
    return service.name if service is not None else None


@blueprint.route("/access/<int:request_id>/decline", methods=["POST"])
@requires(Permission.EDIT_RULES)
def decline_access(request_id: int):
    """No to a child's request, with a note they see on their own page."""
    try:
        access.decline(
            current_dashboard(),
            g.user,
            request_id,
            request.form.get("note", ""),
            datetime.now(UTC),
        )
    except ActionError as err:
        flash(str(err), "error")
        return redirect(url_for("home.index"))
    flash("Declined. They will see your note on their page.", "ok")
    return redirect(url_for("home.index"))
