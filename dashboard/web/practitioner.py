"""What a practitioner sees: the children it was given, each child's rules in plain
words, their devices' records and their agreement. Read-only; nothing about activity, the query
or blocked log, other children, Health, settings or accounts.

Staff who may view see the same pages for every child (what a visiting social worker will
read). For a practitioner, dashboard.web.security's gate has already checked the child and
written the visit to the audit trail before these views run.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, abort, g, render_template

from dashboard.app import current_dashboard
from dashboard.data import device_records, practitioners
from dashboard.data.accounts import Permission, Role
from dashboard.data.device_records import CHECK_NAMES, RESET_CHOICES
from dashboard.data.devices import device_address
from dashboard.data.home_timezone import home_timezone
from dashboard.data.rules_file import child_names
from dashboard.web.security import open_to_practitioners, requires
from filterd.rules.changes import in_force

blueprint = Blueprint("practitioner", __name__, template_folder="../templates")


def _access():
    """The signed-in practitioner's access (None for staff)."""
    if g.user.role is not Role.PRACTITIONER:
        return None
    return practitioners.access_of(current_dashboard().db(), g.user.id)


@blueprint.route("/practitioner/")
@requires(Permission.VIEW)
@open_to_practitioners(child_arg=None)
def index():
    snapshot = current_dashboard().rules.read()
    names = child_names(snapshot.raw)
    shown = practitioners.visible_children(current_dashboard().db(), g.user, names, time.time())
    access = _access()
    return render_template(
        "practitioner/index.html",
        children=shown,
        access=access,
        last_day=(
            practitioners.last_day_text(access.ends, home_timezone(snapshot)) if access else ""
        ),
    )


def _devices(raw: dict[str, Any], child: str) -> list[tuple[str, Any]]:
    """(name, record or None) of each device the rules give this child (records are kept by
    MAC, or by address for a device listed only by it)."""
    entries = raw.get("devices") if isinstance(raw.get("devices"), list) else []
    found = []
    db = current_dashboard().db()
    for entry in entries:
        if not isinstance(entry, dict) or str(entry.get("owner")) != child:
            continue
        found_ip = device_address(str(entry.get("ip") or ""))
        key = device_records.normal_mac(str(entry.get("mac") or "")) or (
            found_ip[1] if found_ip else None
        )
        name = str(entry.get("name") or entry.get("mac") or entry.get("ip") or "a device")
        found.append((name, device_records.read(db, key) if key else None))
    return found


@blueprint.route("/practitioner/children/<child>")
@requires(Permission.VIEW)
@open_to_practitioners(child_arg="child")
def child(child: str):
    snapshot = current_dashboard().rules.read()
    names = child_names(snapshot.raw)
    if child not in names:
        abort(404, "That child is not in this home's rules.")
    profile = snapshot.rules.children.get(child) if snapshot.rules is not None else None
    return render_template(
        "practitioner/child.html",
        child=child,
        name=names[child],
        rules=in_force(profile) if profile is not None else [],
        devices=_devices(snapshot.raw, child),
        check_names=CHECK_NAMES,
        reset_choices=RESET_CHOICES,
        agreement_endpoint=_agreement_endpoint(),
    )


def _agreement_endpoint() -> str | None:
    """The child's agreement page, where the dashboard has one and lets practitioners open it."""
    from flask import current_app

    view = current_app.view_functions.get("agreements.page")
    return "agreements.page" if getattr(view, "open_to_practitioners", False) else None
