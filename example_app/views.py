"""Pages of the example app: sign-in, dashboard, and a page that calls an Adobe API."""

from __future__ import annotations

import json
import logging
from urllib.parse import quote

import requests
from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue

from flask_adobe_admin_auth import (
    AdobeAdminAuthError,
    ConsentRevokedError,
    IMSUnavailable,
    current_consent,
    current_token,
    requires_customer_token,
)

from . import STAND_IN_KEY, adobe, load_account
from .accounts import DEMO_ACCOUNTS, is_local_path

logger = logging.getLogger(__name__)

blueprint = Blueprint("example", __name__)

#: Seconds to wait for the Adobe API before showing an error page.
API_TIMEOUT = 10


@blueprint.get("/")
def home() -> ResponseReturnValue:
    stand_in = current_app.extensions.get(STAND_IN_KEY)
    return render_template(
        "home.html",
        account=load_account(),
        stand_in_url=stand_in.base_url if stand_in is not None else None,
    )


@blueprint.get("/sign-in")
def sign_in() -> ResponseReturnValue:
    return render_template(
        "sign_in.html", accounts=DEMO_ACCOUNTS, next_url=request.args.get("next", "")
    )


@blueprint.post("/sign-in")
def sign_in_submit() -> ResponseReturnValue:
    account = request.form.get("account", "")
    if account not in DEMO_ACCOUNTS:
        logger.info("Sign-in rejected: unknown demo account")
        page = render_template(
            "sign_in.html",
            accounts=DEMO_ACCOUNTS,
            next_url="",
            error="Choose one of the demo accounts below.",
        )
        return page, 400

    session.clear()
    session["account"] = account
    logger.info("Account %s signed in", account)

    next_url = request.form.get("next")
    if is_local_path(next_url):
        return redirect(next_url)  # type: ignore[arg-type]
    return redirect(url_for(".dashboard"))


@blueprint.post("/sign-out")
def sign_out() -> ResponseReturnValue:
    session.clear()
    return redirect(url_for(".home"))


@blueprint.get("/dashboard")
def dashboard() -> ResponseReturnValue:
    account = load_account()
    if account is None:
        return redirect(url_for(".sign_in", next=url_for(".dashboard")))

    return render_template(
        "dashboard.html",
        account=account,
        company=DEMO_ACCOUNTS[account],
        consent=adobe.active_consent(account),
    )


@blueprint.get("/organization")
@requires_customer_token
def organization() -> ResponseReturnValue:
    """Call an org-scoped Adobe API as the technical account and show its JSON response."""
    org_id = current_consent.org_id
    template = current_app.config["EXAMPLE_ADOBE_API_URL"]
    url = template.replace("{org_id}", quote(org_id, safe="@"))

    try:
        response = adobe.api_session(org_id).get(url, timeout=API_TIMEOUT)
    except ConsentRevokedError:
        # The token endpoint rejected the org: the admin revoked consent at Adobe.
        return redirect(url_for("adobe_admin_auth.connect", next=url_for(".organization")))
    except IMSUnavailable:
        return _api_problem("Adobe IMS is unavailable. Try again in a minute.", 503)
    except AdobeAdminAuthError as error:
        logger.error("No token for org %s: %s", org_id, error.code)
        return _api_problem("No access token could be minted for your organization.", 502)
    except requests.RequestException as error:
        logger.warning("Adobe API request for org %s failed: %s", org_id, type(error).__name__)
        return _api_problem("The Adobe API could not be reached.", 502)

    try:
        body = response.json()
    except ValueError:
        body = None
    if not response.ok or body is None:
        logger.warning(
            "Adobe API responded with HTTP %s for org %s (x-debug-id %s)",
            response.status_code,
            org_id,
            response.headers.get("x-debug-id"),
        )
        return _api_problem(f"The Adobe API responded with HTTP {response.status_code}.", 502)

    return render_template(
        "organization.html",
        org_id=org_id,
        body=body,
        body_json=json.dumps(body, indent=2, sort_keys=True),
        token_expires_at=current_token.expires_at,
    )


def _api_problem(message: str, status: int) -> ResponseReturnValue:
    return render_template("problem.html", message=message), status
