"""Children: the list (with "add a child") and each child's rules editor.

A child's page links to three short screens (bedtime and limits, what is blocked, advanced;
dashboard.data.child_form.SCREENS), each saved on its own through dashboard.actions.rules (the
same save, audit entry and reason rule as the API). A refused value is said in plain words next
to its field (dashboard.data.rules_errors), never as a key path, and the person's input is
shown again unchanged. A new child's id is made from the name (dashboard.data.child_ids).
"""

from __future__ import annotations

import time
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)

from dashboard.actions import ActionError, Failure, rules
from dashboard.app import current_dashboard
from dashboard.data import charts
from dashboard.data.accounts import Permission
from dashboard.data.activity import hides_high_risk, top_apps, usage_today
from dashboard.data.child_form import (
    CHOOSABLE,
    SCREENS,
    apply_form,
    form_for_screen,
    form_from_rules,
)
from dashboard.data.home_timezone import home_timezone
from dashboard.data.overrides_shown import active_overrides
from dashboard.data.rules_errors import for_child
from dashboard.web.security import requires
from filterd.dns.block_answers import BlockStyle
from filterd.lists.categories import ALWAYS_BLOCKED, CATEGORIES
from filterd.rules.model import YouTube
from filterd.rules.presets import AGE_BAND_LABELS, AGE_BANDS
from filterd.rules.safe_search_names import ENGINES as SEARCH_ENGINES

blueprint = Blueprint("children", __name__, template_folder="../templates")


@blueprint.record_once
def _add_nav_link(state) -> None:
    state.app.config["NAV_LINKS"].append(("children.index", "Rules", Permission.VIEW))


def _child_devices(raw: dict[str, Any], child: str) -> list[dict[str, Any]]:
    devices = raw.get("devices")
    return (
        [d for d in devices or [] if isinstance(d, dict) and d.get("owner") == child]
        if isinstance(devices, list)
        else []
    )


def _activity(child: str, snapshot) -> charts.Activity:
    """The child's activity charts, in the home's time zone, as this user's role may see them."""
    profile = snapshot.rules.children.get(child) if snapshot.rules is not None else None
    reset = profile.limits.reset if profile is not None else 0
    return charts.activity(
        current_dashboard().filterd_db(),
        child,
        home_timezone(snapshot),
        reset,
        _now(),
        hide_high_risk=hides_high_risk(g.user),
    )


def _now() -> float:
    return time.time()


APPS_TODAY = 10  # apps listed with today's minutes on a child's page


def _apps_today(child: str, snapshot) -> list[tuple[str, int]]:
    """(app name, minutes) used today, most first, as filterd counted them."""
    rules = snapshot.rules
    if rules is None or child not in rules.children:
        return []
    used = usage_today(current_dashboard().filterd_db(), rules.children[child], rules, _now())
    return top_apps(used, current_dashboard().catalogue(), APPS_TODAY)


BLOCK_PAGE_NOT_SERVED = (
    "This home's blocked page is not switched on (the box serves it only when its plain-web"
    " address is set up), so choose another answer."
)


STYLE_WORDS = {
    "null_ip": "no address",
    "nxdomain": '"no such site"',
    "block_page": "this home's blocked page",
}


def block_page_served() -> bool:
    """Whether this box serves the block page: the plain-HTTP listener is configured."""
    return current_dashboard().settings.http_listen is not None


def _common(child: str, snapshot, form) -> dict[str, Any]:
    return {
        "child": child,
        "form": form,
        "file_problems": snapshot.problems,
        "screens": SCREENS,
        "categories": CATEGORIES,
        "choosable": CHOOSABLE,
        "engines": SEARCH_ENGINES,
    }


def _render_child(child: str, snapshot, form):
    """The child's page: what their rules say, links to the three screens, devices, activity."""
    tz = home_timezone(snapshot)
    raw_child = snapshot.raw["children"][child]
    return render_template(
        "children/child.html",
        **_common(child, snapshot, form),
        overrides=active_overrides(raw_child, tz, _now()),
        devices=_child_devices(snapshot.raw, child),
        activity=_activity(child, snapshot),
        apps_today=_apps_today(child, snapshot),
        app_count=len(current_dashboard().catalogue().services),
        chart=charts,
    )


def _render_screen(
    child: str,
    screen: str,
    snapshot,
    form,
    errors: dict[str, str] | None = None,
    problems: list[str] | None = None,
    status: int = 200,
):
    """One of the three screens, with plain-words messages by the fields they are about."""
    raw_child = snapshot.raw.get("children", {}).get(child)
    return (
        render_template(
            f"children/screen_{screen}.html",
            **_common(child, snapshot, form),
            screen=screen,
            title=SCREENS[screen].title,
            errors=errors or {},
            problems=problems or [],
            version=request.form.get("version", snapshot.version)
            if request.method == "POST"
            else snapshot.version,
            overrides=active_overrides(raw_child, home_timezone(snapshot), _now())
            if isinstance(raw_child, dict)
            else [],
            block_page_served=block_page_served(),
            always_blocked=ALWAYS_BLOCKED,
            bands=AGE_BANDS,
            band_labels=AGE_BAND_LABELS,
            styles=[s.value for s in BlockStyle],
            home_style_words=STYLE_WORDS.get(
                current_dashboard().config.blocklists.blocked_answer.style.value, "its own setting"
            ),
            youtube_modes=[m.value for m in YouTube],
        ),
        status,
    )


def _render_list(snapshot, problems=(), form=None, status: int = 200, errors=None):
    children = snapshot.raw.get("children")
    children = children if isinstance(children, dict) else {}
    rows = [
        (
            str(cid),
            str(body.get("name") or cid) if isinstance(body, dict) else str(cid),
            str(body.get("age_band") or "") if isinstance(body, dict) else "",
        )
        for cid, body in children.items()
    ]
    return (
        render_template(
            "children/index.html",
            children=rows,
            problems=list(problems),
            errors=errors or {},
            file_problems=snapshot.problems,
            version=snapshot.version,
            form=form or {"name": "", "age_band": "9_12"},
            bands=AGE_BANDS,
            band_labels=AGE_BAND_LABELS,
        ),
        status,
    )


@blueprint.route("/children/")
@requires(Permission.VIEW)
def index():
    return _render_list(current_dashboard().rules.read())


@blueprint.route("/children/", methods=["POST"])
@requires(Permission.EDIT_RULES)
def add():
    form = {key: request.form.get(key, "").strip() for key in ("name", "age_band")}
    try:
        made = rules.add_child(
            current_dashboard(),
            g.user,
            form["name"],
            form["age_band"],
            request.form.get("version", ""),
        )
    except ActionError as err:
        snapshot = current_dashboard().rules.read()
        if err.failure is Failure.STALE:
            return _render_list(snapshot, [str(err)], form, 409)
        shown = for_child(err.problems, err.child or "", form)
        return _render_list(snapshot, shown.top, form, 400, shown.by_field)
    flash(f"Added {form['name']}. Now set their rules.", "ok")
    return redirect(url_for("children.child", child=made))


def _rules_of(child: str):
    snapshot = current_dashboard().rules.read()
    children = snapshot.raw.get("children")
    if not isinstance(children, dict) or child not in children:
        abort(404, "That child is not in the rules.")
    return snapshot, children[child]


@blueprint.route("/children/<child>")
@requires(Permission.VIEW)
def child(child: str):
    snapshot, body = _rules_of(child)
    return _render_child(child, snapshot, form_from_rules(body))


SCREEN_PATH = "/children/<child>/<any(limits, blocked, advanced):screen>"


@blueprint.route(SCREEN_PATH)
@requires(Permission.VIEW)
def screen(child: str, screen: str):
    snapshot, body = _rules_of(child)
    return _render_screen(child, screen, snapshot, form_from_rules(body))


@blueprint.route(SCREEN_PATH, methods=["POST"])
@requires(Permission.EDIT_RULES)
def save(child: str, screen: str):
    snapshot, old = _rules_of(child)
    form = form_for_screen(old, request.form, screen)
    name = form["name"] or "this child"
    old_style = old.get("blocked_answer") if isinstance(old, dict) else None
    if (
        form["blocked_answer"] == BlockStyle.BLOCK_PAGE.value
        and old_style != BlockStyle.BLOCK_PAGE.value
        and not block_page_served()
    ):
        errors = {"blocked_answer": BLOCK_PAGE_NOT_SERVED}
        return _render_screen(child, screen, snapshot, form, errors, status=400)
    try:
        rules.save_child(
            current_dashboard(),
            g.user,
            child,
            form,
            request.form.get("version", ""),
            request.form.get("reason", ""),
        )
    except ActionError as err:
        if err.failure is Failure.NOT_FOUND:
            abort(404, str(err))
        snapshot = current_dashboard().rules.read()
        if err.failure is Failure.REASON_NEEDED:
            needed = (
                f"This change lets {name} reach a high-risk category"
                f" ({'; '.join(err.problems)}). Say why in the box below, then save again."
            )
            return _render_screen(child, screen, snapshot, form, {"reason": needed}, status=400)
        if err.failure is Failure.REASON_TOO_LONG:  # said by the box, what was typed kept
            return _render_screen(child, screen, snapshot, form, {"reason": str(err)}, status=400)
        if err.failure is Failure.STALE:
            return _render_screen(child, screen, snapshot, form, problems=[str(err)], status=409)
        shown = for_child(err.problems, child, apply_form(old, form))
        here = set(SCREENS[screen].fields)  # a field on another screen is said at the top
        by_field = {f: m for f, m in shown.by_field.items() if f in here}
        top = [m for f, m in shown.by_field.items() if f not in here] + shown.top
        return _render_screen(child, screen, snapshot, form, by_field, top, 400)
    flash(
        f"Saved {name}'s {SCREENS[screen].title.lower()}. filterd applies it within 2 seconds.",
        "ok",
    )
    return redirect(url_for("children.child", child=child))
