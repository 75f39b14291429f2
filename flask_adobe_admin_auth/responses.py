"""Responses shared by the blueprint and the decorators: result pages, JSON errors, redirects."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Response, jsonify, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from .outcomes import UNAUTHORIZED, UNAVAILABLE, Outcome
from .runtime import get_runtime

# Characters a query keeps as they are; everything else, such as raw bytes
# above 0x7f and control characters, is percent-encoded.
_QUERY_SAFE = "!$%&'()*+,/:;=?@-._~"


def prefers_json() -> bool:
    """Whether the client asked for JSON rather than HTML."""
    accept = request.accept_mimetypes
    best = accept.best_match(["text/html", "application/json"])
    if best == "application/json":
        return accept["application/json"] > accept["text/html"] or not accept["text/html"]
    return request.is_json and not accept["text/html"]


def render_outcome(outcome: Outcome, *, code: str, **context: Any) -> Response:
    """Render a result page (or JSON) for ``outcome``, never cached by the browser."""
    if prefers_json():
        response = jsonify(error=code, title=outcome.title, message=outcome.message, **context)
    else:
        html = render_template(
            "adobe_admin_auth/result.html",
            outcome=outcome,
            code=code,
            connect_url=url_for("adobe_admin_auth.connect"),
            **context,
        )
        response = make_response(html)
    response.status_code = outcome.status
    # The page may be served at a callback URL that carries the state and the
    # id_token, so neither a cache nor the Referer of a followed link may keep it.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def unauthorized() -> ResponseReturnValue:
    """Answer a request that needs a signed-in account but has none."""
    runtime = get_runtime()
    handler = runtime.extension._unauthorized_handler
    if handler is not None:
        return handler()
    login_endpoint = runtime.settings.login_endpoint
    if login_endpoint is not None and not prefers_json():
        return redirect(url_for(login_endpoint, next=_current_path()))
    return render_outcome(UNAUTHORIZED, code="not_signed_in")


def connect_required() -> ResponseReturnValue:
    """Send a browser to connect; tell an API client where to connect."""
    connect_url = url_for("adobe_admin_auth.connect", next=_current_path())
    if prefers_json():
        response = jsonify(
            error="consent_required",
            message="Connect an Adobe organization first.",
            connect_url=connect_url,
        )
        response.status_code = 403
        return response
    return redirect(connect_url)


def ims_unavailable() -> Response:
    response = render_outcome(UNAVAILABLE, code="ims_unavailable")
    response.headers["Retry-After"] = "30"
    return response


def _current_path() -> str:
    # Werkzeug 3.1's ``request.full_path`` raises on raw query bytes that are
    # not UTF-8. Percent-encoding them keeps any query usable as ``next``.
    path = request.script_root + request.path
    if not request.query_string:
        return path
    return path + "?" + quote(request.query_string, safe=_QUERY_SAFE)
