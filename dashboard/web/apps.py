"""A child's Apps screen: every app in the catalogue with a one-tap choice each.

The grid shows the twenty apps carers look for first, then every app grouped by kind, with
Allow, Block and "as its category" buttons; each app's own page sets hours or a daily limit.
Every choice is saved by dashboard.actions.apps (version check, permissions, filterd's own
parser, the audit entry), so a refused value comes back in plain words next to the app.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from dashboard.actions import ActionError, Failure
from dashboard.actions.apps import choose_app
from dashboard.app import current_dashboard
from dashboard.data import app_choices, rules_errors
from dashboard.data.accounts import Permission
from dashboard.web.security import requires
from filterd.catalogue.model import Catalogue
from filterd.lists.categories import HIGH_RISK

blueprint = Blueprint("apps", __name__, template_folder="../templates")
MAX_QUERY = 60  # characters of a search kept


def _catalogue() -> Catalogue:
    return current_dashboard().catalogue()


def _child_body(snapshot, child: str) -> dict:
    children = snapshot.raw.get("children")
    if not isinstance(children, dict) or child not in children:
        abort(404, "That child is not in the rules.")
    body = children[child]
    return body if isinstance(body, dict) else {}


def plain_problems(problems: list[str], child: str, body: dict) -> list[str]:
    """filterd's refusal of an app choice in the editor's plain words (rules_errors, the one
    table), never a key path."""
    shown = rules_errors.for_child(problems, child, body)
    return list(dict.fromkeys([*shown.by_field.values(), *shown.top]))


def _matches(state: app_choices.AppState, query: str) -> bool:
    service = state.service
    words = f"{service.name} {service.id} {app_choices.KIND_LABELS.get(service.kind, '')}"
    return query in words.lower()


def _render_grid(child: str, snapshot, problems=None, failed="", status: int = 200):
    catalogue = _catalogue()
    body = _child_body(snapshot, child)
    states = app_choices.states(body, catalogue)
    typed = request.args.get("q", "").strip()[:MAX_QUERY]  # shown back as the carer typed it
    query = typed.lower()
    groups = []
    if query:
        for kind, label, services in app_choices.kinds_in_order(catalogue):
            found = [states[s.id] for s in services if _matches(states[s.id], query)]
            if found:
                groups.append((kind, label, found))
    else:
        top = [states[s] for s in catalogue.most_common]
        groups.append(("most_common", "Most used", top))
        shown = set(catalogue.most_common)
        for kind, label, services in app_choices.kinds_in_order(catalogue):
            rest = [states[s.id] for s in services if s.id not in shown]
            if rest:
                groups.append((kind, label, rest))
    return (
        render_template(
            "children/apps.html",
            child=child,
            name=str(body.get("name") or child),
            groups=groups,
            query=query,
            typed=typed,
            count=sum(len(g[2]) for g in groups),
            version=snapshot.version,
            file_problems=snapshot.problems,
            problems=problems or [],
            failed=failed,
        ),
        status,
    )


@blueprint.route("/children/<child>/apps")
@requires(Permission.VIEW)
def grid(child: str):
    return _render_grid(child, current_dashboard().rules.read())


@blueprint.route("/children/<child>/apps/<service_id>")
@requires(Permission.VIEW)
def app(child: str, service_id: str):
    snapshot = current_dashboard().rules.read()
    return _render_app(child, service_id, snapshot)


def _render_app(
    child,
    service_id,
    snapshot,
    problems=None,
    form=None,
    status: int = 200,
    reason_needed="",
    reason_at="",
):
    catalogue = _catalogue()
    if service_id not in catalogue.services:
        abort(404, "filterd does not know that app.")
    body = _child_body(snapshot, child)
    state = app_choices.states(body, catalogue)[service_id]
    form = form or {
        "days": state.days,
        "start": state.start or "10:00",
        "end": state.end or "12:00",
        "limit": state.limit or "60",
    }
    return (
        render_template(
            "children/app.html",
            child=child,
            name=str(body.get("name") or child),
            state=state,
            form=form,
            day_choices=app_choices.DAY_CHOICES,
            days_label=app_choices.days_text(str(form.get("days", ""))),
            version=snapshot.version,
            file_problems=snapshot.problems,
            problems=problems or [],
            kind_label=app_choices.KIND_LABELS.get(state.service.kind, ""),
            high_risk=state.service.category in HIGH_RISK,
            reason_needed=reason_needed,
            reason_at=reason_at,
        ),
        status,
    )


@blueprint.route("/children/<child>/apps/<service_id>", methods=["POST"])
@requires(Permission.EDIT_RULES)
def choose(child: str, service_id: str):
    catalogue = _catalogue()
    choice = request.form.get("choice", "")
    snapshot = current_dashboard().rules.read()
    fields = {k: request.form.get(k, "")[:20] for k in ("days", "start", "end", "limit")}
    from_app_page = request.form.get("from") == "app"
    try:
        body = choose_app(
            current_dashboard(),
            g.user,
            catalogue,
            child,
            service_id,
            choice,
            fields,
            request.form.get("version", ""),
            request.form.get("reason", ""),
        )
    except ActionError as err:
        if err.failure in (Failure.NOT_FOUND, Failure.INVALID):
            abort(err.failure.status, str(err))
        if err.failure is Failure.REASON_TOO_LONG:  # said by the box, what was typed kept
            return _render_app(child, service_id, snapshot, None, fields, 400, str(err))
        if err.failure is Failure.REASON_NEEDED:
            name = catalogue.services[service_id].name
            needed = (
                f"{name} is in a high-risk category, so allowing it needs a reason. Say why in"
                " the box by the button, then choose again."
            )
            hours = choice == app_choices.HOURS
            box = "hours" if hours else "choice"  # said by the button that was pressed
            return _render_app(
                child, service_id, snapshot, None, fields if hours else None, 400, needed, box
            )
        stale = err.failure is Failure.STALE
        problems = (
            [str(err)]
            if stale
            else plain_problems(err.problems, child, _child_body(snapshot, child))
        )
        code = 409 if stale else 400
        if from_app_page or choice in (app_choices.HOURS, app_choices.LIMIT):
            return _render_app(child, service_id, snapshot, problems, fields, code)
        return _render_grid(child, snapshot, problems, service_id, code)
    service = catalogue.services[service_id]
    state = app_choices.states(body, catalogue)[service_id]
    flash(f"{service.name}: {state.summary}. filterd applies it within 2 seconds.", "ok")
    return redirect(
        url_for("apps.grid", child=child, q=request.args.get("q") or None) + (f"#app-{service_id}")
    )
