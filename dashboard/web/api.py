"""The JSON API: the same actions as the pages, for scripts and other front ends.

Signed in with the same session cookie as the pages; every change needs the session's CSRF
token in the X-CSRF-Token header (`GET /api/session` returns it). The OpenAPI description is
served at /api/openapi.json.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, g, jsonify, request

from dashboard.app import current_dashboard
from dashboard.data import audit, quick_actions
from dashboard.data.accounts import Permission
from dashboard.data.activity import child_summaries
from dashboard.data.blocked_log import (
    ReviewError,
    blocked_ids,
    page_of,
    parse_filters,
    record_reviews,
)
from dashboard.data.devices import HOUSEHOLD_OWNER, assign, seen_devices
from dashboard.data.rules_file import StaleEdit, edited
from dashboard.web.openapi import SPEC
from filterd.rules.parse import RulesError

blueprint = Blueprint("api", __name__, url_prefix="/api")


def api_requires(permission: Permission) -> Callable:
    """401 for no session, 403 for a role without the permission, as JSON."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if g.get("user") is None:
                return jsonify(error="not signed in"), 401
            if not g.user.may(permission):
                return jsonify(error="your account cannot do this"), 403
            return view(*args, **kwargs)

        return wrapped

    return decorate


@blueprint.get("/openapi.json")
def openapi():
    return jsonify(SPEC)


@blueprint.get("/session")
@api_requires(Permission.VIEW)
def session():
    return jsonify(user=g.user.name, role=g.user.role.value, csrf=g.csrf)


@blueprint.get("/children")
@api_requires(Permission.VIEW)
def children():
    snapshot = current_dashboard().rules.read()
    found = (
        child_summaries(current_dashboard().filterd_db(), snapshot.rules) if snapshot.rules else []
    )
    return jsonify(version=snapshot.version, children=[c._asdict() for c in found])


@blueprint.post("/children/<child>/actions")
@api_requires(Permission.EDIT_RULES)
def child_action(child: str):
    body = request.get_json(silent=True) or {}
    action, until = str(body.get("action", "")), str(body.get("until", ""))
    try:
        quick_actions.apply(
            current_dashboard().rules,
            child,
            action,
            until,
            str(body.get("version", "")),
            datetime.now(UTC),
        )
    except quick_actions.ActionError as err:
        return jsonify(error=str(err)), 400
    except StaleEdit as err:
        return jsonify(error=str(err)), 409
    except RulesError as err:
        return jsonify(error="refused", problems=err.problems), 422
    audit.record(current_dashboard().db(), g.user.name, f"child.{action}", child, until)
    return jsonify(ok=True, version=current_dashboard().rules.read().version)


@blueprint.get("/rules")
@api_requires(Permission.VIEW)
def rules():
    snapshot = current_dashboard().rules.read()
    return jsonify(version=snapshot.version, problems=snapshot.problems, rules=snapshot.raw)


@blueprint.put("/rules")
@api_requires(Permission.EDIT_RULES)
def save_rules():
    body = request.get_json(silent=True) or {}
    raw = body.get("rules")
    if not isinstance(raw, dict):
        return jsonify(error="expected {version, rules}"), 400
    return _save(raw, body, "rules.save", "(api)", "")


def _save(raw: dict, body: dict, action: str, target: str, detail: str):
    """Save edited rules on the version the request was based on; audit; the JSON answer."""
    try:
        current_dashboard().rules.save(raw, str(body.get("version", "")))
    except StaleEdit as err:
        return jsonify(error=str(err)), 409
    except RulesError as err:
        return jsonify(error="refused", problems=err.problems), 422
    audit.record(current_dashboard().db(), g.user.name, action, target, detail)
    return jsonify(ok=True, version=current_dashboard().rules.read().version)


@blueprint.get("/audit")
@api_requires(Permission.AUDIT)
def audit_trail():
    return jsonify(entries=[e._asdict() for e in audit.recent(current_dashboard().db())])


@blueprint.get("/devices")
@api_requires(Permission.VIEW)
def devices():
    snapshot = current_dashboard().rules.read()
    found = seen_devices(current_dashboard().filterd_db(), snapshot.raw)
    return jsonify(version=snapshot.version, devices=[d._asdict() for d in found])


@blueprint.post("/devices/<mac>/owner")
@api_requires(Permission.EDIT_RULES)
def device_owner(mac: str):
    """Assign a device to a child, or to the household with owner "none"."""
    body = request.get_json(silent=True) or {}
    owner = str(body.get("owner", ""))
    snapshot = current_dashboard().rules.read()
    seen = {d.mac: d for d in seen_devices(current_dashboard().filterd_db(), snapshot.raw)}
    device = seen.get(mac.lower())
    if device is None:
        return jsonify(error="that device is not one filterd has seen"), 404
    if owner != HOUSEHOLD_OWNER and owner not in (snapshot.raw.get("children") or {}):
        return jsonify(error='owner must be a child id or "none"'), 400
    raw = edited(snapshot)
    assign(raw, device.mac, owner, device.hostname or device.vendor)
    return _save(raw, body, "device.assign", device.mac, owner)


@blueprint.get("/blocked")
@api_requires(Permission.REVIEW)
def blocked_requests():
    """One page of the review queue (same filters as the page: child, device, category,
    range, from, to, page)."""
    filters = parse_filters(request.args)
    page = page_of(
        current_dashboard().filterd_db(),
        current_dashboard().db(),
        filters,
        request.args.get("page", 1, type=int) or 1,
    )
    return jsonify(
        entries=[
            {**e._asdict(), "review": r._asdict() if (r := page.reviews.get(e.id)) else None}
            for e in page.entries
        ],
        page=page.page,
        has_next=page.has_next,
    )


@blueprint.post("/blocked/review")
@api_requires(Permission.REVIEW)
def review():
    body = request.get_json(silent=True) or {}
    ids = body.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
        return jsonify(error="expected ids: a list of query ids"), 400
    known = blocked_ids(current_dashboard().filterd_db(), ids)
    try:
        record_reviews(
            current_dashboard().db(),
            known,
            str(body.get("outcome", "")),
            str(body.get("note", "")),
            g.user.name,
        )
    except ReviewError as err:
        return jsonify(error=str(err)), 400
    audit.record(
        current_dashboard().db(),
        g.user.name,
        "review",
        ",".join(map(str, known)),
        body.get("outcome", ""),
    )
    return jsonify(ok=True, reviewed=known)
