"""A child leaving the home: what happens to their records, said before anything is done, an
export first, what happens to their devices, and a typed confirmation."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from dashboard.actions import ActionError, Failure
from dashboard.actions.child_leaving import DEVICE_CHOICES, UNASSIGN, remove_child
from dashboard.app import current_dashboard
from dashboard.data.accounts import Permission
from dashboard.data.db import ACCESS_REQUEST_DAYS, AUDIT_DAYS, REVIEW_DAYS
from dashboard.data.devices import device_names_of
from dashboard.data.rules_file import child_names
from dashboard.data.unknown_devices import described
from dashboard.web.security import requires

blueprint = Blueprint("child_leaving", __name__, template_folder="../templates")

EVERYTHING_KEPT = "2000-01-01"  # the blocked log's `from` for everything still kept


def _render(child: str, errors: dict[str, str] | None = None, form=None, status: int = 200):
    snapshot = current_dashboard().rules.read()
    names = child_names(snapshot.raw)
    if child not in names:
        abort(404, "That child is not in the rules.")
    retention = current_dashboard().filterd_db().retention
    return (
        render_template(
            "children/leaving.html",
            child=child,
            name=names[child],
            devices=device_names_of(snapshot.raw, child),
            choices=DEVICE_CHOICES,
            unknown_described=described(snapshot.raw).split(" (")[0].lower(),
            version=snapshot.version,
            activity_days=retention.activity_days,
            usage_days=retention.usage_days,
            review_days=REVIEW_DAYS,
            audit_days=AUDIT_DAYS,
            request_days=ACCESS_REQUEST_DAYS,
            export_from=EVERYTHING_KEPT,
            errors=errors or {},
            form=form or {"devices": UNASSIGN, "reason": "", "confirm": ""},
            file_problems=snapshot.problems,
        ),
        status,
    )


@blueprint.route("/children/<child>/leaving")
@requires(Permission.EDIT_RULES)
def confirm(child: str):
    return _render(child)


@blueprint.route("/children/<child>/leaving", methods=["POST"])
@requires(Permission.EDIT_RULES)
def leave(child: str):
    form = {key: request.form.get(key, "") for key in ("devices", "reason", "confirm")}
    try:
        done = remove_child(
            current_dashboard(),
            g.user,
            child,
            form["confirm"],
            form["devices"],
            form["reason"][:1000],
            request.form.get("version", ""),
        )
    except ActionError as err:
        if err.failure is Failure.NOT_FOUND:
            abort(404, str(err))
        status = 409 if err.failure is Failure.STALE else 400
        message = str(err) if not err.problems else "Not saved: " + "; ".join(err.problems)
        return _render(child, {err.field or "confirm": message}, form, status)
    flash(
        f"{done.name} has been removed: their rules no longer apply. Their records are kept"
        " until each one's time is up.",
        "ok",
    )
    return redirect(url_for("children.index"))
