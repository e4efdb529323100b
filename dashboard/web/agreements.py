"""A child's online-safety agreement: read it (every role, and a practitioner given the child),
record it and mark it signed (carers, safeguarding leads, administrators), print it, and read
any earlier version."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for

from dashboard.actions import ActionError, Failure
from dashboard.actions import agreements as actions
from dashboard.app import current_dashboard
from dashboard.data import agreement_form, agreements, audit
from dashboard.data.accounts import Permission
from dashboard.data.home_timezone import home_timezone
from dashboard.web.security import open_to_practitioners, requires

blueprint = Blueprint("agreements", __name__, template_folder="../templates")


def _now() -> float:
    return time.time()


def _child(child: str):
    """(snapshot, profile) of a child in the rules, or 404."""
    snapshot = current_dashboard().rules.read()
    profile = snapshot.rules.children.get(child) if snapshot.rules is not None else None
    if profile is None:
        raw = snapshot.raw.get("children")
        if not isinstance(raw, dict) or child not in raw:
            abort(404, "That child is not in the rules.")
    return snapshot, profile


def _render(
    child: str,
    fields: dict[str, Any] | None = None,
    problems: dict[str, str] | None = None,
    status: int = 200,
    sign_problems: dict[str, str] | None = None,
    signer: tuple[str, str] = ("", ""),
):
    snapshot, profile = _child(child)
    dashboard = current_dashboard()
    now = _now()
    if snapshot.rules is not None:
        actions.follow_rules(dashboard, now)
    db = dashboard.db()
    tz = home_timezone(snapshot)
    every = agreements.versions(db, child)
    current = every[0] if every else None
    found = agreements.status(db, child, profile, now, tz)
    signed = agreements.last_signed(db, child)
    return (
        render_template(
            "agreements/agreement.html",
            child=child,
            name=profile.name if profile is not None else child,
            rules_now=agreements.summary(profile) if profile is not None else [],
            current=current,
            signed=signed,
            versions=every,
            status=found,
            review_words=agreements.review_words(found),
            fields=fields if fields is not None else (current.fields if current else
                                                     agreement_form.blank_fields()),
            problems=problems or {},
            sign_problems=sign_problems or {},
            signer=signer,
            people=agreement_form.PEOPLE,
            risk=agreement_form.RISK,
            child_words=agreement_form.CHILD_WORDS,
            observation=agreement_form.OBSERVATION_HOW,
            name_limit=agreement_form.NAME_LIMIT,
            sign_parts=agreement_form.SIGN_PARTS,
            tz=tz,
            today=datetime.fromtimestamp(now, tz).date().isoformat(),
            changes=_changes(db, child, profile.name if profile else child, current),
            rules_refused=snapshot.rules is None,
        ),
        status,
    )  # fmt: skip


def _changes(db, child: str, name: str, version) -> list:
    if version is None:
        return []
    return agreements.rule_changes(db, child, name, version.audit_after, version.audit_upto)


@blueprint.route("/children/<child>/agreement")
@requires(Permission.VIEW)
@open_to_practitioners(child_arg="child")  # read-only, their children only
def page(child: str):
    return _render(child)


@blueprint.route("/children/<child>/agreement", methods=["POST"])
@requires(Permission.AGREEMENTS)
def save(child: str):
    typed = agreement_form.fields_from_form(request.form)
    try:
        made = actions.record(current_dashboard(), g.user, child, typed, _now())
    except agreement_form.Problem as problem:
        return _render(child, typed, problem.fields, 400)
    except ActionError as err:
        if err.failure is Failure.NOT_FOUND:
            abort(404, str(err))
        return _render(child, typed, {"form": str(err)}, err.failure.status)
    flash(f"Saved as version {made.number}. Print it, and mark it signed once it is signed.", "ok")
    return redirect(url_for("agreements.page", child=child) + "#sign")


@blueprint.route("/children/<child>/agreement/<int:number>/sign", methods=["POST"])
@requires(Permission.AGREEMENTS)
def sign(child: str, number: int):
    signer = request.form.get("signer", "")[:1000]
    part = request.form.get("part", "")
    try:
        actions.sign(current_dashboard(), g.user, child, number, signer, part, _now())
    except agreement_form.Problem as problem:
        return _render(child, status=400, sign_problems=problem.fields, signer=(signer, part))
    except ActionError as err:
        if err.failure is Failure.NOT_FOUND:
            abort(404, str(err))
        status = 409 if err.failure is Failure.STALE else err.failure.status
        return _render(child, status=status, sign_problems={"form": str(err)},
                       signer=(signer, part))  # fmt: skip
    flash(f"Marked signed by {signer.strip()}.", "ok")
    return redirect(url_for("agreements.page", child=child))


def _version_or_404(child: str, number: int):
    found = agreements.version(current_dashboard().db(), child, number)
    if found is None:
        abort(404, "There is no such version of this agreement.")
    return found


@blueprint.route("/children/<child>/agreement/<int:number>")
@requires(Permission.VIEW)
@open_to_practitioners(child_arg="child")  # read-only, their children only
def version(child: str, number: int):
    snapshot, profile = _child(child)
    found = _version_or_404(child, number)
    db = current_dashboard().db()
    name = profile.name if profile is not None else child
    newest = agreements.latest(db, child)
    return render_template(
        "agreements/version.html",
        child=child,
        name=name,
        version=found,
        newest=newest,
        people=agreement_form.PEOPLE,
        risk=agreement_form.RISK,
        tz=home_timezone(snapshot),
        changes=_changes(db, child, name, found),
    )


@blueprint.route("/children/<child>/agreement/<int:number>.pdf")
@requires(Permission.VIEW)
@open_to_practitioners(child_arg="child")  # read-only, their children only
def pdf(child: str, number: int):
    snapshot, profile = _child(child)
    found = _version_or_404(child, number)
    dashboard = current_dashboard()
    tz = home_timezone(snapshot)
    name = profile.name if profile is not None else child
    newest = agreements.latest(dashboard.db(), child)
    if found.signed:
        words = "Signed"
    elif newest is not None and newest.number != found.number:
        words = "Replaced by a later version before it was signed"
    else:
        words = "Not signed yet"
    from dashboard.reports import agreement_pdf  # fpdf loaded on the first PDF (RSS)

    catalogue = current_dashboard().catalogue()
    names = {i: service.name for i, service in catalogue.services.items()}
    document = agreement_pdf.build(found, name, words, tz, names)
    audit.record(dashboard.db(), g.user.name, "agreement.print", child, f"version {number}")
    return Response(
        document,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="agreement-{child}-v{number}.pdf"'},
    )
