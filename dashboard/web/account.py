"""Your account (everyone): change your password, see and end your sessions, and, for
administrators and safeguarding leads, two-factor login."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from dashboard.app import current_dashboard
from dashboard.data import accounts, audit, passwords, sessions, two_factor
from dashboard.data.accounts import AccountError, PasswordRefused, Permission, Throttled
from dashboard.data.home_timezone import home_timezone
from dashboard.web.auth import BUSY, TOO_MANY
from dashboard.web.security import requires

blueprint = Blueprint("account", __name__, template_folder="../templates")

SYSTEMS = (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"),
           ("Windows", "Windows"), ("Macintosh", "Mac"), ("CrOS", "Chromebook"),
           ("Linux", "Linux"))  # fmt: skip
BROWSERS = (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
            ("Safari/", "Safari"))  # fmt: skip


@blueprint.app_template_filter("device_name")
def device_name(agent: str) -> str:
    """A browser's own description, said the way a person would ("Chrome on Android")."""
    system = next((name for key, name in SYSTEMS if key in agent), "")
    browser = next((name for key, name in BROWSERS if key in agent), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "an unknown browser"


@blueprint.app_template_filter("when")
def when(ts: float) -> str:
    """A moment in the home's time zone (the rules' `timezone`), as "today at 21:05"."""
    tz = home_timezone(current_dashboard().rules.read())
    moment = datetime.fromtimestamp(ts, tz)
    today = datetime.now(tz).date()
    day = "today" if moment.date() == today else f"on {moment:%d %b}"
    return f"{day} at {moment:%H:%M}"


def _render(errors: dict[str, str] | None = None, status: int = 200):
    db = current_dashboard().db()
    return (
        render_template(
            "account/index.html",
            errors=errors or {},
            sessions=sessions.listing(db, g.session_id, g.user.id),
            two_factor_offered=g.user.role in accounts.TWO_FACTOR_ROLES,
            two_factor_on=two_factor.enabled(db, g.user.id),
        ),
        status,
    )


@blueprint.route("/account")
@requires(Permission.VIEW)
def index():
    return _render()


@blueprint.route("/account/password", methods=["POST"])
@requires(Permission.VIEW)
def change_password():
    db = current_dashboard().db()
    new = request.form.get("new", "")
    errors: dict[str, str] = {}
    if new != request.form.get("confirm", ""):
        errors["confirm"] = "The two new passwords are not the same."
    else:
        try:
            accounts.change_password(
                db, g.user, request.form.get("current", ""), new, request.remote_addr or ""
            )
        except PasswordRefused as err:
            errors["new"] = str(err)
        except AccountError as err:
            errors["current"] = str(err)
        except Throttled as err:
            errors["current"] = TOO_MANY[err.refusal]
        except passwords.Busy:
            errors["current"] = BUSY
    if errors:
        return _render(errors, 400)
    ended = sessions.end_others(db, g.user.id, g.session_id)
    audit.record(db, g.user.name, "user.password", g.user.name, f"{ended} other sessions ended")
    flash("Your password is changed. Your other sessions have ended.", "ok")
    return redirect(url_for("account.index"))


@blueprint.route("/account/sessions/end", methods=["POST"])
@requires(Permission.VIEW)
def end_session():
    db = current_dashboard().db()
    which = request.form.get("session", "")
    if which == "others":
        ended = sessions.end_others(db, g.user.id, g.session_id)
        audit.record(db, g.user.name, "session.end", g.user.name, f"{ended} other sessions")
        flash(f"Ended {ended} other session{'s' if ended != 1 else ''}.", "ok")
    elif which != g.session_id and sessions.end_by_id(db, which, g.user.id):
        audit.record(db, g.user.name, "session.end", g.user.name, "one other session")
        flash("That session has ended.", "ok")
    else:
        flash("That session had already ended. To end this one, log out.", "error")
    return redirect(url_for("account.index"))


@blueprint.route("/account/two-factor", methods=["GET", "POST"])
@requires(Permission.VIEW)
def enrol():
    """Show a new secret (QR code and text); it takes effect once a code from it is given."""
    db = current_dashboard().db()
    if g.user.role not in accounts.TWO_FACTOR_ROLES:
        flash("Two-factor login is offered to administrators and safeguarding leads.", "error")
        return redirect(url_for("account.index"))
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        if not _is_own_password(db, request.form.get("password", "")):
            # A session left open on a shared phone cannot tie the account to someone's app.
            errors["password"] = "That is not your password: two-factor login is not on yet."
        elif two_factor.confirm_enrolment(db, g.user.id, request.form.get("code", "")):
            ended = sessions.end_others(db, g.user.id, g.session_id)
            audit.record(db, g.user.name, "user.two_factor_on", g.user.name)
            flash(
                "Two-factor login is on: next time, the dashboard asks for a code from your app."
                + (" Your other sessions have ended." if ended else ""),
                "ok",
            )
            return redirect(url_for("account.index"))
        else:
            errors["code"] = "That code does not match: check the app and type the newest one."
        status = 400
        secret = two_factor.pending_secret(db, g.user.id)
    else:
        secret = two_factor.start_enrolment(db, g.user.id)
    uri = two_factor.provisioning_uri(secret, g.user.name)
    page = render_template(
        "account/two_factor.html",
        qr=two_factor.qr_svg(uri),
        secret=two_factor.grouped(secret),
        errors=errors,
    )
    return page, status


@blueprint.route("/account/two-factor/off", methods=["POST"])
@requires(Permission.VIEW)
def turn_off():
    db = current_dashboard().db()
    if not _is_own_password(db, request.form.get("password", "")):
        return _render({"off": "That is not your password: two-factor login stays on."}, 400)
    two_factor.turn_off(db, g.user.id)
    audit.record(db, g.user.name, "user.two_factor_off", g.user.name)
    flash("Two-factor login is off for your account.", "ok")
    return redirect(url_for("account.index"))


def _is_own_password(db, password: str) -> bool:
    """Whether `password` is the signed-in user's (counted against guessing like a login)."""
    try:
        found = accounts.authenticate(db, g.user.name, password, request.remote_addr or "")
    except (Throttled, passwords.Busy):
        return False
    return found is not None and found.id == g.user.id
