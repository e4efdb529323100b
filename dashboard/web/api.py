"""The JSON API: the same actions as the pages, for scripts and other front ends.

Signed in with the same session cookie as the pages; every change needs the session's CSRF
token in the X-CSRF-Token header (`GET /api/session` returns it). The OpenAPI description is
served at /api/openapi.json.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import Blueprint, abort, g, jsonify, make_response, request

from dashboard.actions import ActionError, Failure, child_leaving, quick
from dashboard.actions import devices as device_actions
from dashboard.actions import rules as rules_actions
from dashboard.actions.reviews import review_entries
from dashboard.app import current_dashboard
from dashboard.data import audit
from dashboard.data.accounts import Permission
from dashboard.data.activity import child_summaries, hides_high_risk
from dashboard.data.blocked_log import (
    FilterError,
    device_labels,
    kind_of,
    page_of,
    parse_filters,
    reason_label,
    review_histories,
)
from dashboard.data.devices import all_devices
from dashboard.web.audit_log import page_number
from dashboard.web.openapi import SPEC

blueprint = Blueprint("api", __name__, url_prefix="/api")
T = TypeVar("T")


def api_requires(permission: Permission) -> Callable:
    """401 for no session, 403 for a role without the permission, as JSON."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if g.get("user") is None:
                abort(401, "not signed in")
            if not g.user.may(permission):
                abort(403, "your account cannot do this")  # audited, answered as JSON
            return view(*args, **kwargs)

        return wrapped

    return decorate


MAX_DEPTH = 32  # nesting of a JSON body; a rules file needs 6
MAX_IDS = 1000  # blocked requests reviewed in one call
MAX_ID = 2**63 - 1  # SQLite's largest integer


def json_body() -> dict[str, Any]:
    """The request's JSON object; a 400 (as JSON) for anything else, too deep included."""
    try:
        body = json.loads(request.get_data(cache=True) or b"{}")
    except (ValueError, RecursionError):
        abort(400, "the body is not a JSON object (or is nested too deeply)")
    if not isinstance(body, dict):
        abort(400, "the body must be a JSON object")
    if _depth(body) > MAX_DEPTH:
        abort(400, f"the body is nested more than {MAX_DEPTH} levels deep")
    return body


def _depth(value: Any) -> int:
    """How deeply lists and objects nest (iteratively: no recursion to exhaust)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level <= MAX_DEPTH:
                stack.extend(
                    (v, level + 1) for v in (item.values() if isinstance(item, dict) else item)
                )
    return deepest


def page_argument() -> int:
    """`page` of a listing: 1 when absent, a 400 unless it is a whole number 1..1,000,000."""
    text = request.args.get("page")
    if text is None:
        return 1
    if not text.isdigit() or len(text) > 7 or not 1 <= int(text) <= 1_000_000:
        abort(400, "page must be a whole number from 1 to 1000000")
    return int(text)


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
        child_summaries(
            current_dashboard().filterd_db(),
            snapshot.rules,
            hide_high_risk=hides_high_risk(g.user),
            catalogue=current_dashboard().catalogue(),
            raw=snapshot.raw,
        )
        if snapshot.rules
        else []
    )
    return jsonify(
        version=snapshot.version,
        children=[{**c._asdict(), "overrides": [o._asdict() for o in c.overrides]} for c in found],
    )


def _failed(err: ActionError):
    """An action's refusal as JSON, with the status its kind names."""
    if err.failure is Failure.REFUSED:
        return jsonify(error="refused", problems=err.problems), err.failure.status
    if err.failure is Failure.REASON_NEEDED:
        return jsonify(error="reason needed", loosened=err.problems), err.failure.status
    if err.field:
        return jsonify(error=str(err), field=err.field), err.failure.status
    return jsonify(error=str(err)), err.failure.status


def act(action: Callable[..., T], *args: Any) -> T:
    """Run an action (dashboard.actions, shared with the pages) as the signed-in user; a
    refusal ends the request with its JSON answer (_failed), so each endpoint only reads its
    body and says what was done."""
    try:
        return action(current_dashboard(), g.user, *args)
    except ActionError as err:
        abort(make_response(*_failed(err)))


@blueprint.post("/children/<child>/actions")
@api_requires(Permission.EDIT_RULES)
def child_action(child: str):
    body = json_body()
    action, until = str(body.get("action", "")), str(body.get("until", ""))
    done = act(
        quick.quick_action, child, action, until, str(body.get("version", "")), datetime.now(UTC)
    )
    return jsonify(ok=True, message=done.message, version=current_dashboard().rules.read().version)


@blueprint.delete("/children/<child>")
@api_requires(Permission.EDIT_RULES)
def remove_child(child: str):
    """A child leaving the home: {confirm (their name), devices ("unassign" or "remove"),
    reason, version}. Their records are kept until each one's retention ends."""
    body = json_body()
    done = act(
        child_leaving.remove_child,
        child,
        str(body.get("confirm", "")),
        str(body.get("devices", "")),
        str(body.get("reason", ""))[:1000],
        str(body.get("version", "")),
    )
    return jsonify(ok=True, devices=done.devices, version=done.version)


@blueprint.post("/everyone/actions")
@api_requires(Permission.EDIT_RULES)
def everyone_action():
    """Pause every child (`until`: 15, 30 or 60 minutes, or empty for until resumed) or
    resume every child."""
    body = json_body()
    message = act(
        quick.everyone,
        str(body.get("action", "")),
        str(body.get("until", "")),
        str(body.get("version", "")),
        datetime.now(UTC),
    )
    return jsonify(ok=True, message=message, version=current_dashboard().rules.read().version)


@blueprint.get("/rules")
@api_requires(Permission.VIEW)
def rules():
    snapshot = current_dashboard().rules.read()
    return jsonify(version=snapshot.version, problems=snapshot.problems, rules=snapshot.raw)


@blueprint.put("/rules")
@api_requires(Permission.EDIT_RULES)
def save_rules():
    body = json_body()
    raw = body.get("rules")
    if not isinstance(raw, dict):
        return jsonify(error="expected {version, rules}"), 400
    version = act(
        rules_actions.save_rules, raw, str(body.get("version", "")), str(body.get("reason", ""))
    )
    return jsonify(ok=True, version=version)


@blueprint.get("/audit")
@api_requires(Permission.AUDIT)
def audit_trail():
    """The audit trail, newest first, `page` by page (100 entries each)."""
    db = current_dashboard().db()
    pages = max(1, -(-audit.count(db) // audit.PAGE_SIZE))
    number = page_number(request.args.get("page"), pages)
    return jsonify(entries=[e._asdict() for e in audit.page(db, number)], page=number, pages=pages)


def _device_json(device) -> dict[str, Any]:
    return {**device._asdict(), "key": device.key, "label": device.label, "seen": device.seen}


@blueprint.get("/devices")
@api_requires(Permission.VIEW)
def devices():
    snapshot = current_dashboard().rules.read()
    found = all_devices(current_dashboard(), snapshot.raw)
    return jsonify(version=snapshot.version, devices=[_device_json(d) for d in found])


@blueprint.post("/devices")
@api_requires(Permission.EDIT_RULES)
def add_device():
    """List a device by hand: {address (MAC or IP), name, owner (a child id or "none"),
    version}."""
    body = json_body()
    device = act(
        device_actions.add_device,
        str(body.get("address", "")),
        str(body.get("name", "")),
        str(body.get("owner", "")),
        str(body.get("version", "")),
    )
    return (
        jsonify(ok=True, key=device.key, version=current_dashboard().rules.read().version),
        201,
    )


@blueprint.post("/devices/<key>/owner")
@api_requires(Permission.EDIT_RULES)
def device_owner(key: str):
    """Assign a device to a child, to the household with owner "none", or mark it a
    visitor's with owner "visitor"."""
    body = json_body()
    done = act(
        device_actions.assign_device, key, str(body.get("owner", "")), str(body.get("version", ""))
    )
    return jsonify(ok=True, version=done.version)


@blueprint.post("/devices/<key>/name")
@api_requires(Permission.EDIT_RULES)
def device_name(key: str):
    body = json_body()
    version = act(
        device_actions.rename_device, key, str(body.get("name", "")), str(body.get("version", ""))
    )
    return jsonify(ok=True, version=version)


@blueprint.delete("/devices/<key>")
@api_requires(Permission.EDIT_RULES)
def remove_device(key: str):
    body = json_body()
    version = act(device_actions.remove_device, key, str(body.get("version", "")))
    return jsonify(ok=True, version=version)


@blueprint.get("/blocked")
@api_requires(Permission.REVIEW)
def blocked_requests():
    """One page of the review queue (same filters as the page: child, device, category,
    range, from, to, risk=high, review=waiting, page)."""
    try:
        filters = parse_filters(request.args, strict=True)
    except FilterError as err:
        abort(400, str(err))
    page = page_of(
        current_dashboard().filterd_db(), current_dashboard().db(), filters, page_argument()
    )
    histories = review_histories(current_dashboard().db(), [e.id for e in page.entries])
    labels = device_labels(
        current_dashboard().filterd_db(),
        current_dashboard().rules.read().raw,
        [e.client for e in page.entries],
    )
    return jsonify(
        entries=[
            {
                **e._asdict(),
                "device": labels[e.client].name,
                "device_mac": labels[e.client].mac,
                "why": reason_label(e),
                "kind": kind_of(e)._asdict(),
                "review": r._asdict() if (r := page.reviews.get(e.id)) else None,
                "reviews": [old._asdict() for old in histories.get(e.id, [])],
            }
            for e in page.entries
        ],
        page=page.page,
        has_next=page.has_next,
    )


@blueprint.post("/blocked/review")
@api_requires(Permission.REVIEW)
def review():
    body = json_body()
    ids = body.get("ids")
    if (
        not isinstance(ids, list)
        or len(ids) > MAX_IDS
        or not all(type(i) is int and 1 <= i <= MAX_ID for i in ids)
    ):
        abort(400, f"expected ids: a list of at most {MAX_IDS} query ids")
    outcome, note = body.get("outcome", ""), body.get("note", "")
    if not isinstance(outcome, str) or not isinstance(note, str):
        abort(400, "expected outcome and note as text")
    known = act(review_entries, ids, outcome, note)
    return jsonify(ok=True, reviewed=known)
