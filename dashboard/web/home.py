"""The home page: every child at a glance, with one-tap pause, +30 minutes and lift bedtime."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from dashboard.data import audit
from dashboard.data.accounts import Permission
from dashboard.data.activity import child_summaries, rules_status
from dashboard.data.rules_file import StaleEdit, add_override, edited, home_time, remove_overrides
from dashboard.web.security import requires
from filterd.rules.parse import RulesError

blueprint = Blueprint("home", __name__, template_folder="../templates")
EXTRA_MINUTES = 30


def _dashboard():
    return current_app.extensions["dashboard"]


@blueprint.route("/")
@requires(Permission.VIEW)
def index():
    snapshot = _dashboard().rules.read()
    children = child_summaries(_dashboard().filterd_db(), snapshot.rules) if snapshot.rules else []
    return render_template(
        "home/index.html",
        children=children,
        version=snapshot.version,
        problems=snapshot.problems,
        status=rules_status(_dashboard().filterd_db()),
    )


@blueprint.route("/children/<child>/quick", methods=["POST"])
@requires(Permission.EDIT_RULES)
def quick_action(child: str):
    """pause, resume, extra (30 minutes today) or lift_bedtime (until a time)."""
    action = request.form.get("action", "")
    rules_file = _dashboard().rules
    snapshot = rules_file.read()
    if snapshot.rules is None or child not in snapshot.rules.children:
        flash("That child is not in the rules.", "error")
        return redirect(url_for("home.index"))
    tz = snapshot.rules.timezone
    now = datetime.now(tz)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    raw = edited(snapshot)
    try:
        if action == "pause":
            add_override(raw, child, {"kind": "pause"})
        elif action == "resume":
            remove_overrides(raw, child, "pause")
        elif action == "extra":
            add_override(
                raw,
                child,
                {"kind": "extra_time", "minutes": EXTRA_MINUTES, "until": home_time(midnight)},
            )
        elif action == "lift_bedtime":
            until = request.form.get("until", "")
            try:
                hour, minute = (int(part) for part in until.split(":"))
                moment = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
            except ValueError:
                flash("Choose the time bedtime is lifted until, like 21:30.", "error")
                return redirect(url_for("home.index"))
            if moment <= now:
                moment += timedelta(days=1)
            add_override(raw, child, {"kind": "lift_bedtime", "until": home_time(moment)})
        else:
            flash("Unknown action.", "error")
            return redirect(url_for("home.index"))
        rules_file.save(raw, request.form.get("version", ""))
    except StaleEdit as err:
        flash(str(err), "error")
        return redirect(url_for("home.index"))
    except RulesError as err:
        flash("Not saved: " + "; ".join(err.problems), "error")
        return redirect(url_for("home.index"))
    audit.record(
        _dashboard().db(), g.user.name, f"child.{action}", child, request.form.get("until", "")
    )
    flash(f"Done: {action.replace('_', ' ')} for {snapshot.rules.children[child].name}.", "ok")
    return redirect(url_for("home.index"))
