"""Responses shared by the blueprint and the decorators: result pages, JSON errors, redirects."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import quote

from flask import Response, jsonify, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response as BaseResponse

from .outcomes import CONSENT_REQUIRED, IMS_UNAVAILABLE, RETRY_AFTER_SECONDS, UNAUTHORIZED, Outcome
from .runtime import get_runtime

logger = logging.getLogger(__name__)

# Characters a query keeps as they are; everything else, such as raw bytes
# above 0x7f and control characters, is percent-encoded.
_QUERY_SAFE = "!$%&'()*+,/:;=?@-._~"

_R = TypeVar("_R", bound=BaseResponse)


def prefers_json() -> bool:
    """Return whether the client prefers JSON to HTML."""
    accept = request.accept_mimetypes
    best = accept.best_match(["text/html", "application/json"])
    if best == "application/json":
        return accept["application/json"] > accept["text/html"] or not accept["text/html"]
    return request.is_json and not accept["text/html"]


def no_store(response: _R) -> _R:
    """Keep ``response`` out of caches, out of the Referer header and out of frames.

    Pages of the consent flow may be served at a callback URL that carries
    the state and the id_token. Neither a cache nor the Referer of a
    followed link may keep that URL, and no other site may frame the page.
    """
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def render_outcome(
    outcome: Outcome, *, code: str, json_extra: Mapping[str, Any] | None = None
) -> Response:
    """Render a result page (or JSON) for ``outcome``, never cached by the browser.

    Every 503 response carries ``Retry-After``.

    :param json_extra: fields added to the JSON body only; the HTML page
        shows the outcome alone.
    """
    if prefers_json():
        response = jsonify(
            error=code, title=outcome.title, message=outcome.message, **(json_extra or {})
        )
    else:
        html = render_template(
            "adobe_admin_auth/result.html",
            outcome=outcome,
            code=code,
            connect_url=url_for("adobe_admin_auth.connect"),
        )
        response = make_response(html)
    response.status_code = outcome.status
    if outcome.status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return no_store(response)


def endpoint_url(setting: str, endpoint: str, **values: Any) -> str | None:
    """Build the URL of a configured endpoint, or log an error and return ``None``.

    The endpoint settings cannot be checked at ``init_app``, because an app
    may register its views later, so an unknown endpoint (or one that needs
    URL arguments) shows up here, at request time.

    :param setting: the setting's name without its prefix, for the log line.
    """
    try:
        return url_for(endpoint, **values)
    except BuildError:
        logger.error(
            "ADOBE_ADMIN_AUTH_%s names endpoint %r, which cannot be built into a URL "
            "(no such endpoint, or it needs URL arguments); using the fallback instead",
            setting,
            endpoint,
        )
        return None


def unauthorized() -> ResponseReturnValue:
    """Respond to a request that needs a signed-in account but has none."""
    runtime = get_runtime()
    handler = runtime.extension.unauthorized_callback
    if handler is not None:
        return handler()
    login_endpoint = runtime.settings.login_endpoint
    if login_endpoint is not None and not prefers_json():
        login_url = endpoint_url("LOGIN_ENDPOINT", login_endpoint, next=_current_path())
        if login_url is not None:
            return redirect(login_url)
    return render_outcome(UNAUTHORIZED, code="not_signed_in")


def connect_required() -> ResponseReturnValue:
    """Send a browser to connect; tell an API client where to connect."""
    connect_url = url_for("adobe_admin_auth.connect", next=_current_path())
    if prefers_json():
        return render_outcome(
            CONSENT_REQUIRED, code="consent_required", json_extra={"connect_url": connect_url}
        )
    return redirect(connect_url)


def ims_unavailable() -> Response:
    """Return a 503 response for a token that IMS could not mint right now."""
    return render_outcome(IMS_UNAVAILABLE, code="ims_unavailable")


def _current_path() -> str:
    # Werkzeug 3.1's ``request.full_path`` raises on raw query bytes that are
    # not UTF-8. Percent-encoding them keeps any query usable as ``next``.
    path = request.script_root + request.path
    if not request.query_string:
        return path
    return path + "?" + quote(request.query_string, safe=_QUERY_SAFE)
