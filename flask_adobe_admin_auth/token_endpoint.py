"""One request to the IMS token endpoint, made with Authlib.

This module performs a single attempt and reports what happened as data; the
token service decides about retries, secret fallback and revocation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TokenGrant:
    """A successful token response."""

    access_token: str
    expires_in: float


@dataclass(frozen=True)
class TokenFailure:
    """A failed attempt: ``status`` is ``None`` when no HTTP answer arrived."""

    status: int | None
    error: str | None
    description: str | None
    debug_id: str | None
    retry_after: float | None
    transport_error: str | None = None


class TokenEndpoint:
    """Posts client-credentials grants with ``org_id`` to IMS."""

    def __init__(self, *, url: str, client_id: str, scope: str, timeout: float) -> None:
        self.url = url
        self.client_id = client_id
        self.scope = scope
        self.timeout = timeout

    def request(self, org_id: str, client_secret: str) -> TokenGrant | TokenFailure:
        """Make one attempt to mint a token for ``org_id`` with ``client_secret``."""
        responses: list[requests.Response] = []

        def remember(response: requests.Response) -> requests.Response:
            responses.append(response)
            return response

        # Authlib sends client credentials in the body with client_secret_post,
        # as IMS requires, and keeps the extra org_id parameter in the form.
        with OAuth2Session(
            client_id=self.client_id,
            client_secret=client_secret,
            token_endpoint_auth_method="client_secret_post",
        ) as session:
            session.register_compliance_hook("access_token_response", remember)
            try:
                session.fetch_token(
                    self.url,
                    grant_type="client_credentials",
                    scope=self.scope,
                    org_id=org_id,
                    timeout=self.timeout,
                )
            except requests.RequestException as error:
                if not responses:
                    return _transport_failure(type(error).__name__)
            except (OAuthError, ValueError, TypeError, OverflowError) as error:
                # Authlib raises on error responses and also on success
                # responses whose expires_in it cannot read (such as "1e400").
                # The captured response is read below in either case.
                if not responses:
                    return _transport_failure(type(error).__name__)

        response = responses[-1]
        if response.status_code != 200:
            return _failure_from_response(response)
        return _grant_from_response(response, org_id)


def _transport_failure(name: str) -> TokenFailure:
    return TokenFailure(
        status=None,
        error=None,
        description=None,
        debug_id=None,
        retry_after=None,
        transport_error=name,
    )


def _grant_from_response(response: requests.Response, org_id: str) -> TokenGrant | TokenFailure:
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    access_token = body.get("access_token") if isinstance(body, dict) else None
    expires_in = _parse_expires_in(body.get("expires_in") if isinstance(body, dict) else None)
    if isinstance(access_token, str) and access_token and expires_in is not None:
        return TokenGrant(access_token=access_token, expires_in=expires_in)

    debug_id = response.headers.get("x-debug-id")
    logger.warning(
        "IMS token response for org %s lacks access_token or a valid expires_in (x-debug-id %s)",
        org_id,
        debug_id,
    )
    return TokenFailure(
        status=response.status_code,
        error="invalid_token_response",
        description="the token response lacks access_token or a valid expires_in",
        debug_id=debug_id,
        retry_after=None,
    )


def _failure_from_response(response: requests.Response) -> TokenFailure:
    error: str | None = None
    description: str | None = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        if isinstance(body.get("error"), str):
            error = body["error"][:100]
        if isinstance(body.get("error_description"), str):
            description = body["error_description"][:300]
    return TokenFailure(
        status=response.status_code,
        error=error,
        description=description,
        debug_id=response.headers.get("x-debug-id"),
        retry_after=_parse_retry_after(response.headers.get("Retry-After")),
    )


def _parse_expires_in(value: object) -> float | None:
    """Accept ``expires_in`` as an integer or a numeric string of seconds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, (int, float)) or value != value or value <= 0:
        return None
    return float(value)


def _parse_retry_after(value: str | None) -> float | None:
    # Only the delay-seconds form; an HTTP date is rare from IMS and is ignored.
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if 0 <= seconds < 3600 else None
