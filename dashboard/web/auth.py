"""First run (create the first administrator, then set up the home), log in, log out."""

from __future__ import annotations

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for

from dashboard.app import current_dashboard
from dashboard.data import accounts, audit
from dashboard.data.accounts import AccountError
from dashboard.web.security import COOKIE

blueprint = Blueprint("auth", __name__, template_folder="../templates")


def _local(target: str) -> bool:
    """A path on this site: browsers drop tabs and newlines and read a backslash as a slash,
    so `/\t/host` or `/\\host` would lead to another site; any such character is refused."""
    if not target.startswith("/") or target.startswith("//"):
        return False
    return not any(c <= " " or c in "\\\x7f" for c in target)


def _sign_in(user: accounts.User, target: str):
    token, _ = accounts.start_session(current_dashboard().db(), user)
    response = redirect(target if _local(target) else "/")
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        secure=current_app.config["SECURE_COOKIES"],
        path="/",
    )
    return response


@blueprint.route("/setup", methods=["GET", "POST"])
def setup():
    """Only while there is no account at all: the first administrator chooses a password."""
    db = current_dashboard().db()
    if accounts.has_users(db):
        return redirect(url_for("auth.login"))
    error = None
    if request.method == "POST":
        name, password = request.form.get("name", ""), request.form.get("password", "")
        if password != request.form.get("confirm", ""):
            error = "The two passwords are not the same."
        else:
            try:
                user = accounts.add_first_administrator(db, name, password)
                audit.record(db, user.name, "user.add", user.name, "first administrator")
                # Then the short set-up (time zone, children, devices) if there is no child yet.
                snapshot = current_dashboard().rules.read()
                has_children = snapshot.rules is not None and snapshot.rules.children
                return _sign_in(user, "/" if has_children else url_for("setup.home"))
            except AccountError as err:
                error = str(err)
    return render_template("auth/setup.html", error=error, name=request.form.get("name", ""))


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    db = current_dashboard().db()
    if not accounts.has_users(db):
        return redirect(url_for("auth.setup"))
    error = None
    if request.method == "POST":
        name = request.form.get("name", "")
        remote = request.remote_addr or ""
        user = accounts.authenticate(db, name, request.form.get("password", ""), remote)
        if user is not None:
            audit.record(db, user.name, "login")
            return _sign_in(user, request.args.get("next", "/"))
        current_app.logger.warning("dashboard: failed login for %r from %s", name, remote)
        error = (
            "That name and password do not match an account"
            " (or there were too many tries: wait 15 minutes)."
        )
    return render_template("auth/login.html", error=error)


@blueprint.route("/logout", methods=["POST"])
def logout():
    token = request.cookies.get(COOKIE)
    if token:
        accounts.end_session(current_dashboard().db(), token)
    response = redirect(url_for("auth.login"))
    response.delete_cookie(COOKIE, path="/")
    return response


@blueprint.app_errorhandler(403)
@blueprint.app_errorhandler(400)
@blueprint.app_errorhandler(404)
@blueprint.app_errorhandler(413)
def refused(error):
    return render_template("error.html", error=error, user=g.get("user")), error.code
