"""First run (create the first administrator, then set up the home), log in, log out."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for

from dashboard.app import current_dashboard
from dashboard.data import accounts, audit, passwords, sessions, setup_code, throttle, two_factor
from dashboard.data.accounts import AccessEnded, AccountError, PasswordRefused, Throttled
from dashboard.data.home_timezone import home_timezone
from dashboard.data.practitioners import last_day_text
from dashboard.data.throttle import DEVICE_LIFETIME, Refusal
from dashboard.web.security import COOKIE, DEVICE_COOKIE
from filterd.text.people import escaped

blueprint = Blueprint("auth", __name__, template_folder="../templates")


def _local(target: str) -> bool:
    """A path on this site: browsers drop tabs and newlines and read a backslash as a slash,
    so `/\t/host` or `/\\host` would lead to another site; any such character is refused."""
    if not target.startswith("/") or target.startswith("//"):
        return False
    return not any(c <= " " or c in "\\\x7f" for c in target)


TOO_MANY = {
    Refusal.SOURCE: "Too many wrong tries from this device. Wait 15 minutes and try again.",
    Refusal.OVERALL: (
        "Too many wrong passwords have been tried on this dashboard in the last 15 minutes."
        " Log in on a phone or computer you have logged in on before, or wait 15 minutes."
    ),
}
BUSY = "The dashboard is busy checking other logins. Wait a moment and try again."


def _sign_in(user: accounts.User, target: str, verified: bool = True):
    """A new session (a new token: nothing from before login carries over). With `verified`
    False it waits for the two-factor code and opens nothing else."""
    db = current_dashboard().db()
    agent = request.headers.get("User-Agent", "")
    token, _ = sessions.start(db, user, _remote(), agent, verified)
    target = target if _local(target) else "/"
    if not verified:
        target = url_for("auth.login_code", next=target)
    response = redirect(target)
    response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", secure=True, path="/")
    if not verified:
        return response
    # This browser is now a known device for the account: guessing elsewhere never locks it.
    device = throttle.remember_device(db, user.id, request.cookies.get(DEVICE_COOKIE))
    response.set_cookie(
        DEVICE_COOKIE,
        device,
        max_age=DEVICE_LIFETIME,
        httponly=True,
        samesite="Strict",
        secure=True,
        path="/",
    )
    return response


# Who tried a set-up code, in the audit trail: nobody has an account yet (the address says where).
SETUP_WHO = "(first-run set-up)"


@blueprint.route("/setup", methods=["GET", "POST"])
def setup():
    """Only while there is no account at all, and only with the one-time set-up code: the
    first administrator chooses a name and password."""
    dashboard = current_dashboard()
    db = dashboard.db()
    if accounts.has_users(db):
        return redirect(url_for("auth.login"))
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        name, password = request.form.get("name", ""), request.form.get("password", "")
        try:
            code_ok = accounts.check_setup_code(
                db, dashboard.settings.database, request.form.get("code", ""), _remote()
            )
        except Throttled as err:
            code_ok, errors["code"] = False, TOO_MANY[err.refusal]
            # slowed down: one row a minute from this address, however many tries (as logins)
            audit.record_unless_repeated(db, SETUP_WHO, "setup_code.locked", "", errors["code"])
        if not code_ok:
            if "code" not in errors:
                audit.record(db, SETUP_WHO, "setup_code.failed", "", "wrong set-up code")
                current_app.logger.warning("dashboard: wrong set-up code from %s", _remote())
            errors.setdefault(
                "code",
                "That is not this box's set-up code. It was printed when filterd was installed,"
                " and the command filterd setup-code shows it on the box.",
            )
            status = 403
        elif password != request.form.get("confirm", ""):
            errors["confirm"] = "The two passwords are not the same."
        else:
            try:
                user = accounts.add_first_administrator(db, name, password)
                setup_code.discard(dashboard.settings.database)
                audit.record(db, user.name, "user.add", user.name, "first administrator")
                # Then the short set-up (time zone, children, devices) if there is no child yet.
                snapshot = dashboard.rules.read()
                has_children = snapshot.rules is not None and snapshot.rules.children
                return _sign_in(user, "/" if has_children else url_for("setup.home"))
            except PasswordRefused as err:
                errors["password"] = str(err)
            except AccountError as err:
                errors["name"] = str(err)
            except passwords.Busy:
                errors["password"] = BUSY
        if errors and status == 200:
            status = 400
    page = render_template(
        "auth/setup.html",
        errors=errors,
        name=request.form.get("name", ""),
        code=request.form.get("code", "") if "code" not in errors else "",
    )
    return page, status


def _remote() -> str:
    return request.remote_addr or ""


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    db = current_dashboard().db()
    if not accounts.has_users(db):
        return redirect(url_for("auth.setup"))
    error = None
    status = 200
    if request.method == "POST":
        name = request.form.get("name", "")
        remote = _remote()
        try:
            user = accounts.authenticate(
                db,
                name,
                request.form.get("password", ""),
                remote,
                request.cookies.get(DEVICE_COOKIE, ""),
            )
        except Throttled as err:
            user, error, status = None, TOO_MANY[err.refusal], 429
        except passwords.Busy:
            user, error, status = None, BUSY, 503
        except AccessEnded as ended:
            day = last_day_text(ended.ends, home_timezone(current_dashboard().rules.read()))
            audit.record(db, ended.name, "login.failed", "", f"access ended after {day}")
            error = f"Your access ended after {day}; ask the home's administrator."
            return render_template("auth/login.html", error=error), 403
        if user is not None and two_factor.enabled(db, user.id):
            audit.record(db, user.name, "login.password", "", "waiting for the two-factor code")
            return _sign_in(user, request.args.get("next", "/"), verified=False)
        if user is not None:
            audit.record(db, user.name, "login")
            return _sign_in(user, request.args.get("next", "/"))
        who = escaped(name.strip()[:64]) or "(no name)"
        if status == 429:  # slowed down: one row a minute from this device, however many tries
            audit.record_unless_repeated(db, who, "login.locked", "", error or "")
        else:
            audit.record(db, who, "login.failed", "", error or "")
        current_app.logger.warning("dashboard: failed login for %r from %s", who, remote)
        error = error or "That name and password do not match an account."
    return render_template("auth/login.html", error=error), status


@blueprint.route("/login/code", methods=["GET", "POST"])
def login_code():
    """The second step for accounts with two-factor: the 6-digit code from their app."""
    db = current_dashboard().db()
    token = request.cookies.get(COOKIE, "")
    user = sessions.pending_user(db, token) if token else None
    if user is None:
        return redirect(url_for("auth.login"))
    error, status = None, 200
    if request.method == "POST":
        now = time.time()
        # A device the person logged in on before counts only its own failures, as for passwords.
        device = throttle.known_device(db, request.cookies.get(DEVICE_COOKIE, ""), user.id, now)
        reservation = throttle.reserve(db, "two-factor", user.name, _remote(), device, now)
        if isinstance(reservation, Refusal):
            error, status = TOO_MANY[reservation], 429
        elif two_factor.check(db, user.id, request.form.get("code", "")):
            throttle.release(db, reservation)
            sessions.end(db, token)
            audit.record(db, user.name, "login", "", "with two-factor")
            return _sign_in(user, request.args.get("next", "/"))
        else:
            error, status = "That code is not right, or was used already: try the next one.", 400
            audit.record(db, user.name, "login.failed", "", "wrong two-factor code")
    return render_template("auth/login_code.html", error=error), status


@blueprint.route("/logout", methods=["POST"])
def logout():
    token = request.cookies.get(COOKIE)
    if token:
        sessions.end(current_dashboard().db(), token)
    if g.get("user") is not None:
        audit.record(current_dashboard().db(), g.user.name, "logout")
    response = redirect(url_for("auth.login"))
    response.delete_cookie(COOKIE, path="/", secure=True, httponly=True, samesite="Strict")
    return response
