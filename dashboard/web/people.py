"""People (administrators): every account, with role changes, disabling, deleting, adding,
turning off a lost phone's two-factor, and ending anyone's sessions. The last administrator
can never be disabled, deleted or given another role (dashboard.data.accounts checks that in
the same transaction as the change). Practitioners' accounts are added here with their children
and last day (dashboard.data.practitioners) and never change role: make a new one instead."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from dashboard.app import current_dashboard
from dashboard.data import accounts, audit, passwords, practitioners, sessions, two_factor
from dashboard.data.accounts import AccountError, PasswordRefused, Permission, Role
from dashboard.data.home_timezone import home_timezone
from dashboard.data.practitioners import KINDS, MAX_DAYS, NewPractitioner
from dashboard.data.rules_file import child_names
from dashboard.web.security import requires

blueprint = Blueprint("people", __name__, template_folder="../templates")

ROLE_LABELS = accounts.ROLE_DESCRIPTIONS  # built from GRANTS, beside them
PRACTITIONER_LABEL = "Practitioner: reads only the children given, until the last day"
PRACTITIONER_FIELDS = ("name", "kind", "last_day")


@blueprint.record_once
def _add_nav_link(state) -> None:
    state.app.config["NAV_LINKS"].append(("people.index", "People", Permission.MANAGE_USERS))


def _today() -> date:
    return datetime.now(home_timezone(current_dashboard().rules.read())).date()


def _render(
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status=200,
    practitioner_errors: dict[str, str] | None = None,
    practitioner_form: dict | None = None,
):
    db = current_dashboard().db()
    snapshot = current_dashboard().rules.read()
    today = _today()
    names = child_names(snapshot.raw)
    return (
        render_template(
            "people/index.html",
            people=accounts.listing(db),
            sessions=sessions.listing(db, g.session_id),
            roles=ROLE_LABELS,
            practitioner_label=PRACTITIONER_LABEL,
            access=practitioners.listing(db),
            kinds=KINDS,
            children=names,
            names_of=lambda access: ", ".join(names.get(c, c) for c in sorted(access.children)),
            last_day=lambda ends: practitioners.last_day_text(ends, home_timezone(snapshot)),
            now=time.time(),
            first_day=today.isoformat(),
            latest_day=(today + timedelta(days=MAX_DAYS)).isoformat(),
            latest_words=practitioners.day_words(today + timedelta(days=MAX_DAYS)),
            max_days=MAX_DAYS,
            errors=errors or {},
            form=form or {},
            p_errors=practitioner_errors or {},
            p_form=practitioner_form or {"children": []},
        ),
        status,
    )


@blueprint.route("/people/")
@requires(Permission.MANAGE_USERS)
def index():
    return _render()


def _target(user_id: int) -> accounts.Account:
    found = accounts.find(current_dashboard().db(), user_id)
    if found is None:
        abort(404, "There is no such account any more.")
    return found


@blueprint.route("/people/<int:user_id>", methods=["POST"])
@requires(Permission.MANAGE_USERS)
def change(user_id: int):
    db = current_dashboard().db()
    person = _target(user_id)
    action = request.form.get("action", "")
    try:
        if action == "role":
            role_text = request.form.get("role", "")
            if role_text not in {r.value for r in ROLE_LABELS}:
                abort(400, "Choose one of the roles in the list.")
            if person.role is Role.PRACTITIONER:
                raise AccountError(
                    "A practitioner's account keeps its role: add a new account instead."
                )
            accounts.set_role(db, user_id, Role(role_text))
            done = f"{person.name} is now: {accounts.ROLE_NAMES[Role(role_text)]}."
            audit.record(db, g.user.name, "user.role", person.name, role_text)
        elif action in ("disable", "enable"):
            accounts.set_disabled(db, user_id, action == "disable")
            done = f"{person.name} {'can no longer' if action == 'disable' else 'can'} log in."
            audit.record(db, g.user.name, f"user.{action}", person.name)
        elif action == "delete":
            if request.form.get("confirm_name", "").strip().lower() != person.name.lower():
                raise AccountError(f"To delete the account, type its name ({person.name}).")
            accounts.delete(db, user_id)
            done = f"{person.name}'s account is deleted. The audit trail keeps their name."
            audit.record(db, g.user.name, "user.delete", person.name)
        elif action == "password":
            if person.id == g.user.id:
                raise AccountError("Change your own password under Your account.")
            new = request.form.get("password", "")
            if new != request.form.get("confirm", ""):
                raise AccountError("The two passwords are not the same.")
            accounts.reset_password(db, user_id, person.name, new)
            done = f"{person.name} has a new password; their sessions have ended."
            audit.record(db, g.user.name, "user.password_reset", person.name)
        elif action == "two_factor_off":
            two_factor.turn_off(db, user_id)
            done = f"Two-factor login is off for {person.name}: they log in with a password."
            audit.record(db, g.user.name, "user.two_factor_off", person.name)
        else:
            abort(400, "That is not something this page can do.")
    except AccountError as err:
        flash(str(err), "error")
        return redirect(url_for("people.index"))
    flash(done, "ok")
    return redirect(url_for("people.index"))


@blueprint.route("/people/add", methods=["POST"])
@requires(Permission.MANAGE_USERS)
def add():
    db = current_dashboard().db()
    form = {k: request.form.get(k, "") for k in ("name", "role")}
    errors: dict[str, str] = {}
    if form["role"] not in {r.value for r in ROLE_LABELS}:
        errors["role"] = "Choose a role."
    elif request.form.get("password", "") != request.form.get("confirm", ""):
        errors["confirm"] = "The two passwords are not the same."
    else:
        try:
            user = accounts.add_user(
                db, form["name"], Role(form["role"]), request.form.get("password", "")
            )
            audit.record(db, g.user.name, "user.add", user.name, form["role"])
            flash(f"Added {user.name}. Give them their password in person.", "ok")
            return redirect(url_for("people.index"))
        except PasswordRefused as err:
            errors["password"] = str(err)
        except AccountError as err:
            errors["name"] = str(err)
        except passwords.Busy:
            errors["password"] = "The dashboard is busy: try again in a moment."
    return _render(errors, form, 400)


@blueprint.route("/people/sessions/end", methods=["POST"])
@requires(Permission.MANAGE_USERS)
def end_session():
    db = current_dashboard().db()
    which = request.form.get("session", "")
    if which == g.session_id:
        flash("That is this session: to end it, log out.", "error")
    elif sessions.end_by_id(db, which):
        audit.record(db, g.user.name, "session.end", request.form.get("name", ""))
        flash("That session has ended: the person will be asked to log in again.", "ok")
    else:
        flash("That session had already ended.", "error")
    return redirect(url_for("people.index"))


@blueprint.route("/people/practitioners/add", methods=["POST"])
@requires(Permission.MANAGE_USERS)
def add_practitioner():
    """A visiting practitioner's read-only account: who they are, which children, last day."""
    db = current_dashboard().db()
    snapshot = current_dashboard().rules.read()
    form = {k: request.form.get(k, "")[:200] for k in PRACTITIONER_FIELDS}
    typed = NewPractitioner(
        form["name"],
        form["kind"],
        frozenset(request.form.getlist("children")),
        form["last_day"],
        request.form.get("password", ""),
        request.form.get("confirm", ""),
    )
    shown = {**form, "children": sorted(typed.children)}
    errors = practitioners.problems(typed, set(child_names(snapshot.raw)), _today())
    if errors:
        return _render(status=400, practitioner_errors=errors, practitioner_form=shown)
    user, errors = practitioners.add(db, typed, home_timezone(snapshot), g.user.name)
    if user is None:
        return _render(status=400, practitioner_errors=errors, practitioner_form=shown)
    audit.record(
        db,
        g.user.name,
        "user.add",
        user.name,
        f"practitioner ({KINDS[typed.kind].lower()}) for {', '.join(sorted(typed.children))}"
        f" until the end of {typed.last_day.strip()}",
    )
    flash(f"Added {user.name}. Give them their password in person.", "ok")
    return redirect(url_for("people.index"))
