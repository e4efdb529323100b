"""Every refusal answered plainly: an error page for people, JSON for the API.

A request the dashboard refuses (a bad value, a role without the permission, a form from
another site) gets a 4xx with a sentence saying why, never a 500 and never an HTML page to a
script. Refusals for a role (403) are written to the audit trail with the source address, so
someone probing what their account can do shows up there.
"""

from __future__ import annotations

from flask import Flask, current_app, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from dashboard.app import current_dashboard
from dashboard.data import audit
from dashboard.data.rule_permissions import FieldsRefused

MAX_AUDITED_PATH = 200


def install(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(FieldsRefused, _fields_refused)


def is_api() -> bool:
    return request.path.startswith("/api/")


def _answer(code: int, name: str, description: str):
    if is_api():
        return jsonify(error=description), code
    page = render_template(
        "error.html", code=code, name=name, description=description, user=g.get("user")
    )
    return page, code


def _http_error(error: HTTPException):
    code = error.code or 500
    description = error.description or error.name
    if code == 403:
        _audit_refusal(description)
    return _answer(code, error.name, description)


def _fields_refused(error: FieldsRefused):
    _audit_refusal(f"{error} ({', '.join(error.paths)})")
    return _answer(403, "Forbidden", str(error))


def _audit_refusal(why: str) -> None:
    """A 403, in the audit trail: who (if signed in), what they asked for and why not."""
    user = g.get("user")
    try:
        audit.record_unless_repeated(
            current_dashboard().db(),
            user.name if user is not None else "(not signed in)",
            "refused",
            f"{request.method} {request.path[:MAX_AUDITED_PATH]}",
            why,
        )
    except Exception:  # the refusal stands even when the audit trail cannot be written
        current_app.logger.exception("dashboard: cannot audit a refusal")
