"""Your alerts (on Your account): where your alerts go and which ones, within your role."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, request, url_for

from dashboard.alerts import routing
from dashboard.app import current_dashboard
from dashboard.data import audit
from dashboard.data.accounts import Permission
from dashboard.web.security import requires
from filterd.events.kinds import KINDS

blueprint = Blueprint("alert_choices", __name__, template_folder="../templates")


@blueprint.app_context_processor
def alert_settings():
    """What the account page shows in its Alerts section: the address and the choices."""

    def settings() -> dict:
        user = g.get("user")
        if user is None:
            return {"kinds": [], "email": "", "chosen": frozenset()}
        db = current_dashboard().db()
        may = routing.MAY_RECEIVE[user.role]
        kinds = [(name, KINDS[name].summary) for name in KINDS if name in may]
        kinds += [(name, label) for name, label in routing.DIGEST_LABELS if name in may]
        return {
            "kinds": kinds,
            "email": routing.email_of(db, user.id),
            "chosen": routing.choices(db, user.id, user.role),
        }

    return {"alert_settings": settings}


@blueprint.route("/account/alerts", methods=["POST"])
@requires(Permission.VIEW)
def save():
    from dashboard.web.account import _render  # the account page, shown again on a problem

    db = current_dashboard().db()
    wanted = request.form.getlist("kind")
    try:  # all checked before anything is written: a refusal changes nothing
        routing.save_choices(db, g.user.id, g.user.role, request.form.get("email", ""), wanted)
    except routing.ChoiceRefused as err:
        return _render({err.field: str(err)}, 400)
    audit.record(db, g.user.name, "alerts.choose", g.user.name, ", ".join(sorted(wanted)) or "none")
    flash("Your alert choices are saved.", "ok")
    return redirect(url_for("account.index") + "#alerts-heading")
