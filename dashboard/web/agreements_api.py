"""The JSON API for children's online-safety agreements: read, record a version, mark signed.
The same actions (dashboard.actions.agreements), checks and audit entries as the pages."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, abort, g, jsonify

from dashboard.actions import ActionError, Failure
from dashboard.actions import agreements as actions
from dashboard.app import current_dashboard
from dashboard.data import agreement_form, agreements
from dashboard.data.accounts import Permission
from dashboard.data.agreements import Version
from dashboard.data.home_timezone import home_timezone
from dashboard.web.api import api_requires, json_body

blueprint = Blueprint("agreements_api", __name__, url_prefix="/api")  # openapi.py describes it


def _version(found: Version) -> dict[str, Any]:
    return {
        "number": found.number,
        "made": found.ts,
        "author": found.author,
        "cause": found.cause,
        "in_force": [{"setting": s, "value": v} for s, v in found.in_force],
        "fields": found.fields,
        "signatures": [
            {"signer": s.signer, "part": s.part, "recorded_by": s.recorded_by, "ts": s.ts}
            for s in found.signatures
        ],
        "audit_entries": [found.audit_after + 1, found.audit_upto],
    }


def _failed(err: ActionError):
    if err.failure is Failure.NOT_FOUND:
        abort(404, str(err))
    return jsonify(error=str(err)), err.failure.status


@blueprint.get("/children/<child>/agreement")
@api_requires(Permission.VIEW)
def read(child: str):
    dashboard = current_dashboard()
    snapshot = dashboard.rules.read()
    profile = snapshot.rules.children.get(child) if snapshot.rules is not None else None
    if profile is None:
        abort(404, "That child is not in the rules.")
    now = time.time()
    actions.follow_rules(dashboard, now)
    db = dashboard.db()
    found = agreements.status(db, child, profile, now, home_timezone(snapshot))
    return jsonify(
        child=child,
        state=found.state,
        words=found.words,
        review=found.review.isoformat() if found.review else None,
        review_state=found.review_state,
        observed=found.observed,
        versions=[_version(v) for v in agreements.versions(db, child)],
    )


@blueprint.post("/children/<child>/agreement")
@api_requires(Permission.AGREEMENTS)
def record(child: str):
    body = json_body()
    unknown = sorted(set(body) - set(agreement_form.blank_fields()))
    if unknown:
        abort(400, f"unknown fields: {', '.join(unknown[:10])}")
    if any(not isinstance(v, str | bool) for v in body.values()):
        abort(400, "every field is text (observation is true or false)")
    typed = agreement_form.fields_from_form(
        {k: ("on" if v is True else "" if v is False else v) for k, v in body.items()}
    )
    try:
        made = actions.record(current_dashboard(), g.user, child, typed, time.time())
    except agreement_form.Problem as problem:
        return jsonify(error="invalid", fields=problem.fields), 400
    except ActionError as err:
        return _failed(err)
    return jsonify(_version(made)), 201


@blueprint.post("/children/<child>/agreement/<int:number>/sign")
@api_requires(Permission.AGREEMENTS)
def sign(child: str, number: int):
    body = json_body()
    signer, part = body.get("signer", ""), body.get("part", "")
    if not isinstance(signer, str) or not isinstance(part, str):
        abort(400, "signer and part are text")
    try:
        signed = actions.sign(
            current_dashboard(), g.user, child, number, signer[:1000], part, time.time()
        )
    except agreement_form.Problem as problem:
        return jsonify(error="invalid", fields=problem.fields), 400
    except ActionError as err:
        return _failed(err)
    found = agreements.version(current_dashboard().db(), child, signed.number)
    assert found is not None
    return jsonify(_version(found))
