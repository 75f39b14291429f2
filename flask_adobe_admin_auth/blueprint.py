"""The consent blueprint: connect, callback and disconnect."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from .cache import CACHE_ERRORS
from .callback import CallbackParameters, check_binding, read_parameters
from .errors import ConsentRejected
from .models import ID_MAX_LENGTH, Consent
from .outcomes import (
    ADOBE_OUTCOMES,
    CACHE_UNAVAILABLE,
    CSRF_FAILED,
    FORM_INVALID,
    JWKS_UNAVAILABLE,
    NOT_CONNECTED,
    REJECTED,
    adobe_outcome,
)
from .redirects import is_safe_path
from .responses import endpoint_url, no_store, render_outcome, unauthorized
from .runtime import EXTENSION_KEY, Runtime, get_runtime
from .signals import consent_denied, consent_granted
from .store import EVENT_DENIED, EVENT_DISCONNECTED, EVENT_REJECTED

logger = logging.getLogger(__name__)

blueprint = Blueprint(EXTENSION_KEY, __name__, template_folder="templates")

# The fields the disconnect form reads.
_DISCONNECT_FIELDS = ("csrf_token", "org_id", "next")


@blueprint.after_app_request
def _save_browser_binding(response: Response) -> Response:
    runtime = current_app.extensions.get(EXTENSION_KEY)
    if isinstance(runtime, Runtime):
        return runtime.binding.save(response)
    return response


def _cache_unreachable(error: Exception) -> ResponseReturnValue:
    # State, nonce and replay markers live only in the shared cache, so the
    # flow cannot go on safely without it. Nothing was stored.
    logger.error(
        "Consent flow step %s failed: the shared cache is unreachable (%s)",
        request.endpoint,
        type(error).__name__,
    )
    return render_outcome(CACHE_UNAVAILABLE, code="cache_unavailable")


for _error_class in CACHE_ERRORS:
    blueprint.register_error_handler(_error_class, _cache_unreachable)


@blueprint.get("/connect")
def connect() -> ResponseReturnValue:
    """Start a consent flow and send the browser to Adobe's consent screen."""
    runtime = get_runtime()
    settings = runtime.settings
    account_id = runtime.extension.load_account()
    if account_id is None:
        logger.info("Connect rejected: no account is signed in")
        return unauthorized()

    next_url = request.args.get("next")
    if next_url is not None and not is_safe_path(next_url, settings.max_param_length):
        logger.info("Ignoring an off-site or malformed next target for account %s", account_id)
        next_url = None

    browser_id = runtime.binding.ensure_browser_id()
    state, nonce = runtime.consent_requests.issue(
        account_id=account_id, browser_id=browser_id, next_url=next_url
    )
    query = {
        "client_id": settings.client_id,
        "scope": settings.scope_param,
        "state": state,
        "nonce": nonce,
        "redirect_uri": settings.redirect_uri or url_for(".callback", _external=True),
    }
    separator = "&" if "?" in settings.consent_url else "?"
    logger.info("Consent flow started for account %s", account_id)

    return no_store(redirect(settings.consent_url + separator + urlencode(query)))


@blueprint.get("/callback")
def callback() -> ResponseReturnValue:
    """Check Adobe's redirect back and store the consent when every check passes."""
    runtime = get_runtime()
    extension = runtime.extension
    account_id = extension.load_account()

    try:
        params = read_parameters(runtime.settings, request.query_string)
    except ConsentRejected as error:
        return _reject(runtime, error, account_id=account_id)

    browser_id = runtime.binding.current_browser_id()
    cookies_missing = browser_id is None or account_id is None
    if params.state is not None and cookies_missing and not params.bounced:
        return _bounce(params)

    if params.state is None:
        if params.error is not None:
            return _deny(runtime, params.error, account_id=account_id)
        return _reject(
            runtime,
            ConsentRejected("The callback carries no state.", code="state_missing"),
            account_id=account_id,
        )

    pending = runtime.consent_requests.consume(params.state)
    if pending is None:
        return _reject(
            runtime,
            ConsentRejected(
                "The consent request is unknown, expired or already used.", code="state_unknown"
            ),
            account_id=account_id,
        )

    try:
        account_id = check_binding(pending, browser_id=browser_id, account_id=account_id)
    except ConsentRejected as error:
        return _reject(runtime, error, account_id=pending.account_id)

    if params.error is not None:
        return _deny(runtime, params.error, account_id=account_id)
    if params.admin_consent == "false":
        return _deny(runtime, "cancelled", account_id=account_id)
    if params.admin_consent is None or params.id_token is None:
        return _reject(
            runtime,
            ConsentRejected(
                "The callback carries neither a consent nor an error.", code="consent_missing"
            ),
            account_id=account_id,
        )

    try:
        verified = runtime.verifier.verify(params.id_token, nonce=pending.nonce)
    except ConsentRejected as error:
        return _reject(runtime, error, account_id=account_id)

    consent, reconnected = runtime.store.grant(
        account_id=account_id,
        org_id=verified.org_id,
        technical_account_id=verified.technical_account_id,
        scopes=runtime.settings.scope_param,
    )
    runtime.forget_consents(account_id)
    logger.info(
        "Consent granted: account %s linked org %s (technical account %s, reconnected %s)",
        account_id,
        consent.org_id,
        consent.technical_account_id,
        reconnected,
    )
    consent_granted.send(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        consent=consent,
        account_id=account_id,
        org_id=consent.org_id,
        reconnected=reconnected,
    )
    target = _after(
        runtime, pending.next_url, "AFTER_CONNECT_ENDPOINT", runtime.settings.after_connect_endpoint
    )
    return no_store(redirect(target))


@blueprint.post("/disconnect")
def disconnect() -> ResponseReturnValue:
    """Revoke the signed-in account's consent locally (Adobe is not notified)."""
    runtime = get_runtime()
    account_id = runtime.extension.load_account()
    if account_id is None:
        logger.info("Disconnect rejected: no account is signed in")
        return unauthorized()

    # No form of this app repeats a field. With two csrf_token values, a
    # middleware could check one while this view reads the other.
    repeated = [name for name in _DISCONNECT_FIELDS if len(request.form.getlist(name)) > 1]
    if "csrf_token" in repeated:
        logger.warning("Disconnect rejected for account %s: repeated CSRF token", account_id)
        return render_outcome(CSRF_FAILED, code="csrf_failed")
    if repeated:
        logger.warning(
            "Disconnect rejected for account %s: repeated form field %s", account_id, repeated[0]
        )
        return render_outcome(FORM_INVALID, code="duplicate_parameter")

    if not runtime.binding.check_csrf_token(request.form.get("csrf_token")):
        logger.warning(
            "Disconnect rejected for account %s: missing or invalid CSRF token", account_id
        )
        return render_outcome(CSRF_FAILED, code="csrf_failed")

    org_id = request.form.get("org_id") or None
    if org_id is not None and len(org_id) > ID_MAX_LENGTH:
        # No stored org id is that long, so no consent can match it.
        logger.info(
            "Disconnect for account %s names an org id longer than %d characters",
            account_id,
            ID_MAX_LENGTH,
        )
        return render_outcome(NOT_CONNECTED, code="not_connected")

    consent = _consent_to_disconnect(runtime, account_id, org_id)
    if consent is None:
        logger.info(
            "Disconnect for account %s found no active consent (org %s)", account_id, org_id
        )
        return render_outcome(NOT_CONNECTED, code="not_connected")

    runtime.revoke(consent, reason="disconnected", event_kind=EVENT_DISCONNECTED)
    next_url = request.form.get("next")
    target = _after(
        runtime, next_url, "AFTER_DISCONNECT_ENDPOINT", runtime.settings.after_disconnect_endpoint
    )
    return redirect(target)


def _consent_to_disconnect(runtime: Runtime, account_id: str, org_id: str | None) -> Consent | None:
    # Read from the database, not a cache, because a revocation follows. Without
    # an org id the app's org selector picks, as it does for protected views.
    consents = runtime.store.active_consents(account_id)
    if org_id is None:
        return runtime.extension.select_consent(consents)
    return next((consent for consent in consents if consent.org_id == org_id), None)


def _bounce(params: CallbackParameters) -> Response:
    # Browsers withhold SameSite=Strict cookies on the cross-site redirect from
    # Adobe. A reload started by this page is same-site, so it carries them.
    # The target is rebuilt from the validated parameters only, so the page
    # never echoes the rest of the query, and the state is not consumed yet.
    query: dict[str, Any] = params.reload_query()
    target = url_for(".callback", **query)
    logger.info("Callback arrived without session or binding cookie; reloading it same-site")
    return no_store(Response(render_template("adobe_admin_auth/bounce.html", target=target)))


def _after(runtime: Runtime, next_url: str | None, setting: str, endpoint: str | None) -> str:
    # The flow has already succeeded here, so an endpoint setting that cannot
    # be built falls back to the site's root rather than failing with a 500.
    if next_url and is_safe_path(next_url, runtime.settings.max_param_length):
        return next_url
    if next_url:
        logger.info(
            "Ignoring an off-site, malformed or too long next target after %s", request.endpoint
        )
    if endpoint is not None:
        url = endpoint_url(setting, endpoint)
        if url is not None:
            return url
    return request.script_root + "/"


def _deny(runtime: Runtime, code: str, *, account_id: str | None) -> Response:
    outcome = adobe_outcome(code)
    reason = code if code in ADOBE_OUTCOMES else "unknown_error"
    logger.info("Consent denied for account %s: %s (Adobe code %r)", account_id, reason, code)
    if account_id is not None:
        runtime.store.record_event(EVENT_DENIED, reason=reason, account_id=account_id)
    consent_denied.send(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        account_id=account_id,
        reason=reason,
    )
    return render_outcome(outcome, code=reason)


def _reject(runtime: Runtime, error: ConsentRejected, *, account_id: str | None) -> Response:
    logger.warning(
        "Consent callback rejected: %s (account %s, org %s): %s",
        error.code,
        account_id,
        error.org_id,
        error.message,
    )
    # Only attributable rejections are audited, so anonymous garbage cannot
    # grow the audit table.
    if account_id is not None:
        runtime.store.record_event(
            EVENT_REJECTED, reason=error.code, account_id=account_id, org_id=error.org_id
        )
    consent_denied.send(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        account_id=account_id,
        reason=error.code,
    )
    # The only 503 rejection is an unreachable JWKS, found after the state was consumed.
    outcome = (
        JWKS_UNAVAILABLE
        if error.status == 503
        else dataclasses.replace(REJECTED, status=error.status)
    )
    return render_outcome(outcome, code=error.code)
