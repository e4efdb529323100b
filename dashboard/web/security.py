"""Request plumbing every page relies on: who is signed in, what they may do, CSRF, headers.

Sessions are server-side (dashboard.data.accounts): the cookie holds a random token, logout
deletes the session. Every state-changing request must carry the session's CSRF token. Hosts
outside `allowed_hosts` are refused, so a page on the internet that rebinds a name to the
box cannot drive the dashboard from a carer's browser.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, g, redirect, request, url_for

from dashboard.app import current_dashboard
from dashboard.data import audit, practitioners, sessions
from dashboard.data.accounts import Permission, Role, User

# Served only over HTTPS: Secure cookies, and the __Host- prefix makes browsers refuse them
# unless set by this very host over HTTPS with Path=/ and no Domain (no sibling name can plant
# or overwrite one).
COOKIE = "__Host-filterd_session"
DEVICE_COOKIE = "__Host-filterd_device"  # a known device for throttling (data/throttle.py)
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self';"
        " frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # no address leaves the site; our own forms say Origin
    "Cache-Control": "no-store",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    # The dashboard is HTTPS only: browsers that saw it once never try plain HTTP for a year.
    "Strict-Transport-Security": "max-age=31536000",
}


def install(app: Flask) -> None:
    app.before_request(_note_source)
    app.before_request(_check_host)
    app.before_request(_load_user)
    app.before_request(_check_csrf)
    app.before_request(_practitioner_gate)
    app.after_request(_add_headers)
    app.context_processor(lambda: {"user": g.get("user"), "csrf": g.get("csrf", "")})


def _note_source() -> None:
    """Every audit row of this request records where it came from."""
    audit.SOURCE.set(request.remote_addr or "")


def _check_host() -> None:
    try:
        host = _host_name(request.host or "")
    except ValueError:  # a malformed Host header
        host = ""
    if host not in current_app.config["ALLOWED_HOSTS"]:
        abort(400, "This address is not one the dashboard answers to.")


def _load_user() -> None:
    g.user, g.csrf, g.session_id = None, "", ""
    token = request.cookies.get(COOKIE)
    if token:
        found = sessions.user_of(current_dashboard().db(), token)
        if found:
            g.user, g.csrf, g.session_id = found


def _check_csrf() -> None:
    if request.method in SAFE_METHODS:
        return
    if request.endpoint in current_app.config["CSRF_EXEMPT"]:
        _check_same_origin()  # no session yet to hold a token: the browser says who posts
        return
    sent = request.form.get("csrf") or request.headers.get("X-CSRF-Token") or ""
    if not g.csrf or not hmac.compare_digest(sent, g.csrf):
        abort(403, "This form has expired. Go back, reload the page and try again.")


def _check_same_origin() -> None:
    """Refuse a form another site made a browser post (first-run setup, login)."""
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        abort(403, "This form can only be sent from the dashboard's own pages.")
    # No Origin at all: not a browser's cross-site post (a script on the LAN, which has to
    # know the password anyway). "null" is what a sandboxed frame or a page from a file or
    # data: address sends, never our own pages, so it is another site like any other.
    origin = request.headers.get("Origin")
    if origin is not None and _origin_of(origin) != _origin_of(request.host_url):
        abort(403, "This form can only be sent from the dashboard's own pages.")


def _origin_of(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL, the port filled in for http and https: an origin is all
    three, so another service on the box (another port) or plain HTTP is another site."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    except ValueError:  # a malformed port
        return ("", "", None)
    return (parts.scheme.lower(), (parts.hostname or "").lower(), port)


def _host_name(netloc: str) -> str:
    """The host of a Host header or an origin's netloc: no port, no IPv6 brackets, lower case."""
    return (urlsplit("//" + netloc).hostname or "").lower()


def _add_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


# Endpoints about the session itself, open to a practitioner like anyone signed in.
SESSION_ENDPOINTS = frozenset({"static", "auth.login", "auth.login_code", "auth.logout"})
PRACTITIONER_HOME = "practitioner.index"


def open_to_practitioners(child_arg: str | None = "child") -> Callable:
    """Mark a read-only page a practitioner may open. Every other page refuses them (the
    default is no: a page added later without this mark cannot show them anything). With
    `child_arg`, the page is about the child named by that URL part and opens only for a
    practitioner given that child (practitioners.can_see_child)."""

    def decorate(view: Callable) -> Callable:
        view.practitioner_child_arg = child_arg  # type: ignore[attr-defined]
        view.open_to_practitioners = True  # type: ignore[attr-defined]
        return view

    return decorate


def _practitioner_gate() -> Any:
    """For a practitioner's session, before any view runs: refuse every page not marked
    open_to_practitioners and every change, check the child, and audit what it opened."""
    user: User | None = g.get("user")
    g.practitioner_allowed = False
    if user is None or user.role is not Role.PRACTITIONER:
        return None
    if request.endpoint in SESSION_ENDPOINTS:
        return None
    if request.endpoint == "home.index":  # where login lands: their own list instead
        return redirect(url_for(PRACTITIONER_HOME))
    view = current_app.view_functions.get(request.endpoint or "")
    if (
        view is None
        or not getattr(view, "open_to_practitioners", False)
        or request.method not in SAFE_METHODS
    ):
        abort(403, "A practitioner's account can only read the pages about its children.")
    child_arg = getattr(view, "practitioner_child_arg", None)
    child = str((request.view_args or {}).get(child_arg, "")) if child_arg else ""
    db = current_dashboard().db()
    if child_arg and not practitioners.can_see_child(db, user, child):
        abort(403, "Your account cannot see this child.")
    audit.record(db, user.name, "practitioner.view", child, request.path[:200])
    g.practitioner_allowed = True
    return None


def requires(permission: Permission) -> Callable:
    """Only signed-in users whose role grants `permission` (or a practitioner on a page the
    gate let it open); others go to the login page."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user: User | None = g.get("user")
            if user is None:
                return redirect(url_for("auth.login", next=request.path))
            if g.get("practitioner_allowed"):
                return view(*args, **kwargs)
            if not user.may(permission):
                abort(403, "Your account cannot do this.")
            return view(*args, **kwargs)

        return wrapped

    return decorate
