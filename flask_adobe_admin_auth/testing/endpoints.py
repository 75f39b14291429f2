"""WSGI application with the HTTP endpoints of the IMS stand-in.

Routes:

- ``GET /consent``: the admin consent page (Adobe's ``https://id.adobe.com/consent``);
- ``POST /consent``: the decision a person submits on that page;
- ``GET /ims/keys``: the JWKS that signs id_tokens;
- ``POST /ims/token/v3``: client-credentials token endpoint;
- ``GET /demo/organization``: an org-scoped API that accepts the minted tokens.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .keys import fake_access_token
from .pages import render_consent_page, render_error_page
from .state import (
    AutoApprove,
    AutoCancel,
    AutoError,
    Fault,
    IMSState,
    IssuedToken,
    OrgClaim,
)

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from .ims import LocalIMS

logger = logging.getLogger(__name__)

_ROUTES = Map(
    [
        Rule("/consent", endpoint="consent", methods=["GET"]),
        Rule("/consent", endpoint="consent_decision", methods=["POST"]),
        Rule("/ims/keys", endpoint="jwks", methods=["GET"]),
        Rule("/ims/token/v3", endpoint="token", methods=["POST"]),
        Rule("/demo/organization", endpoint="demo_organization", methods=["GET"]),
    ]
)

# OAuth error codes for faults queued without a body. Adobe documents
# ``internal_error`` for HTTP 500 on the token endpoint.
# NOTE: Adobe does not document its rate-limit response, so ``too_many_requests`` is a guess.
_FAULT_ERROR_CODES = {429: "too_many_requests", 503: "temporarily_unavailable"}

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@dataclass(frozen=True)
class _ConsentRequest:
    """A consent request that passed validation."""

    redirect_uri: str
    state: str
    nonce: str | None
    scopes: list[str]


def _json_response(
    body: Mapping[str, Any], status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        json.dumps(body), status=status, headers=dict(headers or {}), mimetype="application/json"
    )


def _oauth_error(status: int, error: str, description: str) -> Response:
    logger.info("Rejecting IMS request with HTTP %s %s: %s", status, error, description)
    # Adobe support requests the x-debug-id of a failed call, so clients should log it.
    headers = {"x-debug-id": secrets.token_hex(16), **_NO_STORE}
    return _json_response({"error": error, "error_description": description}, status, headers)


def _gateway_error(status: int, error_code: str, message: str) -> Response:
    logger.info("Rejecting demo API request with HTTP %s %s: %s", status, error_code, message)
    return _json_response({"error_code": error_code, "message": message}, status)


def _html_response(html: str, status: int = 200) -> Response:
    if status >= 400:
        logger.info("Showing consent error page with HTTP %s", status)
    return Response(html, status=status, mimetype="text/html", headers=_NO_STORE)


def _add_query(url: str, params: Iterable[tuple[str, str]]) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _redirect(url: str, params: Iterable[tuple[str, str]]) -> Response:
    return Response(status=302, headers={"Location": _add_query(url, params), **_NO_STORE})


def _split_scopes(value: str) -> list[str]:
    return [scope.strip() for scope in value.split(",") if scope.strip()]


class IMSApplication:
    """WSGI application that serves the endpoints of one :class:`LocalIMS`."""

    def __init__(self, ims: LocalIMS, state: IMSState) -> None:
        self._ims = ims
        self._state = state

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        response = self._dispatch(request)
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        adapter = _ROUTES.bind_to_environ(request.environ)
        try:
            endpoint, _ = adapter.match()
        except NotFound:
            return _json_response(
                {"error": "not_found", "error_description": f"no route for {request.path}"}, 404
            )
        except MethodNotAllowed as error:
            allowed = ", ".join(error.valid_methods or [])
            return _json_response(
                {
                    "error": "method_not_allowed",
                    "error_description": f"{request.method} is not allowed on {request.path}",
                },
                405,
                {"Allow": allowed},
            )
        except HTTPException as error:
            return _json_response({"error": "invalid_request"}, error.code or 400)

        handler = getattr(self, f"_{endpoint}")
        response: Response = handler(request)
        return response

    # Faults

    def _take_fault(self, endpoint: str) -> Response | None:
        """Apply the next queued fault of ``endpoint`` and return its response, if any."""
        fault = self._state.next_fault(endpoint)
        if fault is None:
            return None

        if fault.delay > 0:
            time.sleep(fault.delay)
        if fault.status is None:
            return None

        logger.debug("Responding to %s with a queued fault, HTTP %s", endpoint, fault.status)
        return self._fault_response(endpoint, fault, fault.status)

    def _fault_response(self, endpoint: str, fault: Fault, status: int) -> Response:
        headers = dict(fault.headers or {})
        if isinstance(fault.body, (str, bytes)):
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
            return Response(fault.body, status=status, headers=headers)

        if fault.body is not None:
            body: Mapping[str, Any] = fault.body
        elif endpoint == "demo":
            body = self._default_gateway_body(status)
        else:
            body = self._default_oauth_body(status)

        if endpoint != "demo":
            headers.setdefault("x-debug-id", secrets.token_hex(16))
        return _json_response(body, status, headers)

    @staticmethod
    def _default_oauth_body(status: int) -> dict[str, str]:
        if status in _FAULT_ERROR_CODES:
            error = _FAULT_ERROR_CODES[status]
        elif status >= 500:
            error = "internal_error"
        else:
            error = "invalid_request"
        return {"error": error, "error_description": "failure queued with LocalIMS.fail_next()"}

    @staticmethod
    def _default_gateway_body(status: int) -> dict[str, str]:
        # Adobe's gateway responds to throttled calls with error code 429050.
        error_code = "429050" if status == 429 else str(status)
        return {"error_code": error_code, "message": HTTP_STATUS_CODES.get(status, "Error")}

    # Consent

    def _consent(self, request: Request) -> Response:
        query = dict(request.args.items())
        self._state.record_consent_request(query)
        fault_response = self._take_fault("consent")
        if fault_response is not None:
            return fault_response

        checked = self._check_consent_request(query)
        if isinstance(checked, Response):
            return checked

        decision = self._state.decision
        if isinstance(decision, AutoApprove):
            logger.debug("Approving consent automatically for org %s", decision.org_id)
            return self._approve(
                checked,
                decision.org_id,
                technical_account_id=decision.technical_account_id,
                org_claim=decision.org_claim,
                claims=decision.claims,
                header=decision.header,
            )
        if isinstance(decision, AutoCancel):
            return _redirect(
                checked.redirect_uri, [("state", checked.state), ("admin_consent", "false")]
            )
        if isinstance(decision, AutoError):
            return self._error_redirect(checked.redirect_uri, decision.code, checked.state)

        hidden = {
            "client_id": self._ims.client_id,
            "redirect_uri": query.get("redirect_uri", ""),
            "state": checked.state,
            "nonce": checked.nonce or "",
            "scope": ",".join(checked.scopes),
        }
        page = render_consent_page(
            action=request.path,
            client_id=self._ims.client_id,
            scopes=checked.scopes,
            orgs=self._ims.orgs,
            hidden=hidden,
        )
        return _html_response(page)

    def _consent_decision(self, request: Request) -> Response:
        form = dict(request.form.items())
        checked = self._check_consent_request(form)
        if isinstance(checked, Response):
            return checked

        decision = form.get("decision")
        if decision == "approve":
            org_id = form.get("org_id", "")
            if org_id not in self._ims.orgs:
                return _html_response(
                    render_error_page(
                        "Unknown organization",
                        f"The organization {org_id!r} is not one of this stand-in's orgs. "
                        "Go back and choose one from the list.",
                    ),
                    400,
                )
            return self._approve(checked, org_id)
        if decision == "cancel":
            return _redirect(
                checked.redirect_uri, [("state", checked.state), ("admin_consent", "false")]
            )
        if decision == "error":
            code = form.get("error_code") or "error"
            return self._error_redirect(checked.redirect_uri, code, checked.state)

        return _html_response(
            render_error_page(
                "Invalid decision",
                f"The form field 'decision' must be approve, cancel or error, got {decision!r}.",
            ),
            400,
        )

    def _check_consent_request(self, values: Mapping[str, str]) -> _ConsentRequest | Response:
        """Validate a consent request in the order Adobe reports the problems.

        Returns the validated request, or the response to send instead: an
        HTML error page when there is nowhere to redirect, otherwise a redirect
        that carries ``error``.
        """
        client_id = values.get("client_id", "")
        if client_id != self._ims.client_id:
            return _html_response(
                render_error_page(
                    "Invalid client_id",
                    f"The client_id {client_id!r} is not the client id of this stand-in "
                    f"({self._ims.client_id!r}). Check ADOBE_ADMIN_AUTH_CLIENT_ID.",
                ),
                400,
            )

        requested_uri = values.get("redirect_uri") or None
        if requested_uri is not None and not self._ims.accepts_redirect_uri(requested_uri):
            return self._error_redirect(None, "invalid_redirect_uri", values.get("state"))

        redirect_uri = requested_uri or self._ims.default_redirect_uri
        if redirect_uri is None:
            return _html_response(
                render_error_page(
                    "Missing redirect_uri",
                    "This stand-in has no default redirect URI, so the consent request must "
                    "carry redirect_uri. Pass default_redirect_uri to LocalIMS to change that.",
                ),
                400,
            )

        state = values.get("state", "")
        if not state:
            return self._error_redirect(redirect_uri, "missing_state_param", None)

        scopes = _split_scopes(values.get("scope", ""))
        if not scopes or not set(scopes) <= set(self._ims.scopes):
            return self._error_redirect(redirect_uri, "invalid_scopes", state)

        # NOTE: Adobe does not document how it handles a request without nonce.
        # The stand-in then issues an id_token without a nonce claim.
        nonce = values.get("nonce") or None
        return _ConsentRequest(redirect_uri=redirect_uri, state=state, nonce=nonce, scopes=scopes)

    def _error_redirect(self, redirect_uri: str | None, code: str, state: str | None) -> Response:
        """Redirect back with ``error=code``.

        Adobe sends errors to the credential's default redirect URI whatever the
        request asked for. Without a default, the stand-in uses the request's
        redirect URI, and shows an error page when it has none it may use.
        """
        target = self._ims.default_redirect_uri or redirect_uri
        if target is None:
            return _html_response(
                render_error_page(
                    "Invalid redirect_uri",
                    f"The consent request failed with error {code!r}, and the stand-in has no "
                    "redirect URI to report it to. Use a redirect_uri that matches the "
                    "stand-in's redirect URI patterns, or pass default_redirect_uri to LocalIMS.",
                ),
                400,
            )

        logger.debug("Redirecting consent request back with error %s", code)
        params = [] if state is None else [("state", state)]
        return _redirect(target, [*params, ("error", code)])

    def _approve(
        self,
        checked: _ConsentRequest,
        org_id: str,
        *,
        technical_account_id: str | None = None,
        org_claim: OrgClaim = "orgId",
        claims: Mapping[str, Any] | None = None,
        header: Mapping[str, Any] | None = None,
    ) -> Response:
        account = self._state.grant(org_id, technical_account_id)
        id_token = self._ims.make_id_token(
            org_id=org_id,
            nonce=checked.nonce,
            sub=account,
            org_claim=org_claim,
            claims=claims,
            header=header,
        )
        return _redirect(
            checked.redirect_uri,
            [("state", checked.state), ("admin_consent", "true"), ("id_token", id_token)],
        )

    # Key set

    def _jwks(self, request: Request) -> Response:
        self._state.count_jwks_request()
        fault_response = self._take_fault("jwks")
        if fault_response is not None:
            return fault_response

        headers = {"Cache-Control": f"public, max-age={self._ims.jwks_max_age}"}
        return _json_response(self._ims.jwks(), headers=headers)

    # Token endpoint

    def _token(self, request: Request) -> Response:
        # Client credentials count only in the body, as with Authlib's
        # client_secret_post. A Basic Authorization header is ignored.
        form = request.form
        org_id = form.get("org_id", "")
        self._state.count_token_request(org_id)
        fault_response = self._take_fault("token")
        if fault_response is not None:
            return fault_response

        if form.get("grant_type") != "client_credentials":
            return _oauth_error(
                400, "unsupported_grant_type", "grant_type must be client_credentials"
            )
        client_id = form.get("client_id", "")
        if client_id != self._ims.client_id:
            return _oauth_error(400, "invalid_client", "invalid client_id parameter")
        if form.get("client_secret", "") not in self._ims.client_secrets:
            return _oauth_error(400, "invalid_client", "invalid client_secret parameter")

        scopes = _split_scopes(form.get("scope", ""))
        if not scopes or not set(scopes) <= set(self._ims.scopes):
            return _oauth_error(400, "invalid_scope", "invalid scope parameter")

        account = self._state.technical_account(org_id) if org_id else None
        if account is None:
            return self._reject_org(org_id)

        now = self._ims.clock()
        lifetime = self._ims.token_lifetime
        access_token = fake_access_token(
            client_id=client_id,
            technical_account_id=account,
            org_id=org_id,
            scopes=scopes,
            created_at=int(now),
            lifetime=lifetime,
        )
        self._state.store_token(
            access_token,
            IssuedToken(
                org_id=org_id,
                technical_account_id=account,
                client_id=client_id,
                expires_at=now + lifetime,
            ),
        )
        expires_in: int | str = str(lifetime) if self._ims.expires_in_as_string else lifetime
        body = {"access_token": access_token, "token_type": "bearer", "expires_in": expires_in}
        return _json_response(body, headers=_NO_STORE)

    def _reject_org(self, org_id: str) -> Response:
        # NOTE: Adobe does not document its response for a revoked org, so the
        # status and error code are settable through revoked_org_response.
        status, error = self._ims.revoked_org_response
        if not org_id:
            description = "missing org_id parameter"
        elif self._state.is_revoked(org_id):
            description = f"consent for org {org_id} was revoked"
        else:
            description = f"org {org_id} has not consented to this client"
        return _oauth_error(status, error, description)

    # Demo API

    def _demo_organization(self, request: Request) -> Response:
        self._state.count_demo_request()
        fault_response = self._take_fault("demo")
        if fault_response is not None:
            return fault_response

        scheme, _, access_token = request.headers.get("Authorization", "").partition(" ")
        issued = None
        if scheme.lower() == "bearer" and access_token.strip():
            issued = self._state.find_token(access_token.strip())
        if issued is None or issued.expires_at <= self._ims.clock():
            return _gateway_error(401, "401013", "Oauth token is not valid")

        if request.headers.get("x-api-key") != issued.client_id:
            return _gateway_error(403, "403003", "Api Key is invalid")
        if request.headers.get("x-gw-ims-org-id") != issued.org_id:
            return _gateway_error(403, "403023", "Profile is not valid")

        body = {
            "org_id": issued.org_id,
            "name": self._ims.orgs.get(issued.org_id, issued.org_id),
            "technical_account_id": issued.technical_account_id,
            "token_expires_at": int(issued.expires_at),
        }
        return _json_response(body)
