"""The blocked-request log: filter, review (one entry or a group) and export as CSV."""

from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from dashboard.actions import ActionError
from dashboard.actions.reviews import review_entries
from dashboard.app import current_dashboard
from dashboard.data import audit, children_left
from dashboard.data import blocked_log as data
from dashboard.data.accounts import Permission
from dashboard.data.devices import all_devices
from dashboard.data.export import blocked_csv
from dashboard.data.home_timezone import home_timezone
from dashboard.data.rules_file import child_names
from dashboard.web.api import MAX_ID, MAX_IDS, page_argument
from dashboard.web.security import requires
from filterd.lists.categories import CATEGORIES

blueprint = Blueprint("blocked", __name__, template_folder="../templates")


@blueprint.record_once
def _add_nav_link(state) -> None:
    state.app.config["NAV_LINKS"].append(("blocked.index", "Blocked", Permission.REVIEW))


def _rules_and_filters():
    """The rules in force (or None), the home's time zone and the request's filters."""
    snapshot = current_dashboard().rules.read()
    tz = home_timezone(snapshot)
    try:
        return snapshot.rules, tz, data.parse_filters(request.args, tz=tz)
    except data.FilterError as err:
        abort(400, f"That filter is not valid: {err}.")


def device_choices(raw: dict) -> list[tuple[str, str]]:
    """(address, name) for the device filter: every device the Devices page lists that has an
    address, by name."""
    found = all_devices(current_dashboard(), raw)
    return sorted(((d.address, d.label) for d in found if d.address), key=lambda c: c[1].lower())


@blueprint.route("/blocked/")
@requires(Permission.REVIEW)
def index():
    rules, tz, filters = _rules_and_filters()
    page_number = page_argument()
    page = data.page_of(
        current_dashboard().filterd_db(), current_dashboard().db(), filters, page_number
    )
    raw = current_dashboard().rules.read().raw
    current = {key: p.name for key, p in rules.children.items()} if rules else {}
    children = children_left.names(current_dashboard().db(), current)
    labels = data.device_labels(
        current_dashboard().filterd_db(), raw, [e.client for e in page.entries]
    )
    histories = data.review_histories(current_dashboard().db(), [e.id for e in page.entries])
    return render_template(
        "blocked/index.html",
        page=page,
        earlier={key: reviews[:-1] for key, reviews in histories.items() if len(reviews) > 1},
        filters=filters,
        params=filters.params(),
        devices=device_choices(raw),
        labels=labels,
        kind_of=data.kind_of,
        reason_label=data.reason_label,
        children=children,
        current_children=current,
        high_risk_only=data.HIGH_RISK_ONLY,
        not_reviewed=data.NOT_REVIEWED,
        categories=CATEGORIES,
        ranges=data.RANGES,
        outcomes=data.OUTCOMES,
        reasons=data.REASONS,
        apps={
            key: service.name for key, service in current_dashboard().catalogue().services.items()
        },
        clock=lambda ts: datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M"),
    )


@blueprint.route("/blocked/review", methods=["POST"])
@requires(Permission.REVIEW)
def review():
    tz = home_timezone(current_dashboard().rules.read())
    try:
        back_filters = data.parse_filters(request.form, tz=tz)
    except data.FilterError:
        back_filters = data.Filters()
    back = url_for("blocked.index", **back_filters.params())
    wanted = [value for value in request.form.getlist("id")]
    if len(wanted) > MAX_IDS or not all(v.isdigit() and 1 <= int(v) <= MAX_ID for v in wanted):
        abort(400, "That selection is not valid: choose blocked requests from the list.")
    wanted = [int(value) for value in wanted]
    outcome = request.form.get("outcome", "")
    try:
        ids = review_entries(
            current_dashboard(), g.user, wanted, outcome, request.form.get("note", "")
        )
    except ActionError as err:
        flash(str(err), "error")
        return redirect(back)
    count = len(ids)
    flash(
        f"Marked {count} blocked request{'s' if count != 1 else ''} reviewed:"
        f" {data.OUTCOMES[outcome]}.",
        "ok",
    )
    return redirect(back)


@blueprint.route("/blocked/export.csv")
@requires(Permission.REVIEW)
def export():
    _, tz, filters = _rules_and_filters()
    disposition = {"Content-Disposition": 'attachment; filename="blocked.csv"'}
    if request.method == "HEAD":  # a link checker or a prefetch: no export made, none audited
        return Response(b"", mimetype="text/csv", headers=disposition)
    reader, db = current_dashboard().filterd_db(), current_dashboard().db()
    entries = list(data.all_matching(reader, filters, db))
    reviews = data.reviews_for(db, [e.id for e in entries])
    snapshot = current_dashboard().rules.read()
    labels = data.device_labels(reader, snapshot.raw, [e.client for e in entries])
    names = children_left.names(db, child_names(snapshot.raw))
    apps = {key: app.name for key, app in current_dashboard().catalogue().services.items()}
    body = blocked_csv(entries, reviews, tz, labels, names, apps)
    audit.record(
        current_dashboard().db(),
        g.user.name,
        "export",
        "blocked requests",
        f"{len(entries)} rows; {filters.describe()}",
    )
    stamp = datetime.now(tz).strftime("%Y%m%d-%H%M")
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="blocked-{stamp}.csv"'},
    )
