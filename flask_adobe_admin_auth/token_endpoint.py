"""One request to the IMS token endpoint, made with Authlib.

This module performs a single attempt and reports what happened as data; the
token service decides about retries, secret fallback and revocation.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeGuard

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session

if TYPE_CHECKING:
    from .settings import Settings

logger = logging.getLogger(__name__)

#: The ``error`` code of a success response that carries no usable token.
INVALID_TOKEN_RESPONSE = "invalid_token_response"

#: Maximum length of an accepted access token, in characters. IMS tokens seen
#: in public code are about 1 to 2 KiB (an estimate).
MAX_ACCESS_TOKEN_LENGTH = 16 * 1024

#: Longest ``Retry-After`` honoured, in seconds; a longer one is cut to this.
MAX_RETRY_AFTER = 3600.0

# Printable ASCII without space: what a bearer token (RFC 6750 b64token) can hold.
_ACCESS_TOKEN_PATTERN = re.compile(r"[\x21-\x7e]+")


@dataclass(frozen=True)
class TokenGrant:
    """A successful token response."""

    access_token: str
    expires_in: float


@dataclass(frozen=True)
class TokenFailure:
    """A failed attempt: ``status`` is ``None`` when no HTTP response arrived."""

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

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenEndpoint:
        """Build the endpoint of the app's token URL, client id, scopes and HTTP timeout."""
        return cls(
            url=settings.token_url,
            client_id=settings.client_id,
            scope=settings.scope_param,
            timeout=settings.http_timeout,
        )

    def request(
        self, org_id: str, client_secret: str, *, timeout: float | None = None
    ) -> TokenGrant | TokenFailure:
        """Make one attempt to mint a token for ``org_id`` with ``client_secret``.

        :param timeout: seconds for this attempt, when shorter than the
            endpoint's own timeout (for example to end before a mint deadline).

        Redirects are not followed: a 307 or 308 would send the client secret
        again to wherever the ``Location`` header points. A 3xx is returned as
        a failure.
        """
        seconds = self.timeout if timeout is None else min(self.timeout, timeout)
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
                    timeout=seconds,
                    allow_redirects=False,
                )
            except requests.RequestException as error:
                if not responses:
                    return _transport_failure(type(error).__name__)
            except (OAuthError, ValueError, TypeError, OverflowError, RecursionError) as error:
                # Authlib raises on error responses and also on success
                # responses whose expires_in it cannot read (such as "1e400")
                # or whose JSON nests too deeply to parse.
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
    debug_id = response.headers.get("x-debug-id")
    try:
        body: Any = response.json()
    except (ValueError, RecursionError):
        body = None
    if not isinstance(body, dict):
        return _invalid_grant(org_id, debug_id, "the body is not a JSON object")
    if body.get("error") is not None:
        return _invalid_grant(org_id, debug_id, "the body carries an error field")

    access_token = body.get("access_token")
    if not _is_valid_access_token(access_token):
        return _invalid_grant(
            org_id,
            debug_id,
            "access_token is missing, empty, longer than "
            f"{MAX_ACCESS_TOKEN_LENGTH} characters or not printable ASCII without spaces",
        )
    expires_in = _parse_expires_in(body.get("expires_in"))
    if expires_in is None:
        return _invalid_grant(org_id, debug_id, "expires_in is missing or not a positive number")
    return TokenGrant(access_token=access_token, expires_in=expires_in)


def _invalid_grant(org_id: str, debug_id: str | None, reason: str) -> TokenFailure:
    logger.warning(
        "IMS returned HTTP 200 without a usable token for org %s: %s (x-debug-id %s)",
        org_id,
        reason,
        debug_id,
    )
    return TokenFailure(
        status=200,
        error=INVALID_TOKEN_RESPONSE,
        description=reason,
        debug_id=debug_id,
        retry_after=None,
    )


def _is_valid_access_token(value: object) -> TypeGuard[str]:
    return (
        isinstance(value, str)
        and len(value) <= MAX_ACCESS_TOKEN_LENGTH
        and _ACCESS_TOKEN_PATTERN.fullmatch(value) is not None
    )


def _failure_from_response(response: requests.Response) -> TokenFailure:
    error: str | None = None
    description: str | None = None
    try:
        body = response.json()
    except (ValueError, RecursionError):
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
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
    )


def _parse_expires_in(value: object) -> float | None:
    """Accept ``expires_in`` as a number or a numeric string of seconds.

    A value too large for a float (such as ``10**400`` or ``"1e400"``) reads as
    infinity, which the token service caps at ``TOKEN_MAX_LIFETIME``.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, int):
        try:
            value = float(value)
        except OverflowError:
            value = math.inf if value > 0 else -math.inf
    if not isinstance(value, float) or math.isnan(value) or value <= 0:
        return None
    return value


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Return the seconds a ``Retry-After`` header requests, or ``None`` when it is invalid.

    Both forms of RFC 9110, section 10.2.3, are read: delay-seconds and an
    HTTP-date. A date in the past means 0; a wait above :data:`MAX_RETRY_AFTER`
    is cut to it, so that a broken proxy cannot stop minting for days.
    """
    if value is None:
        return None
    text = value.strip()
    seconds: float | None
    try:
        seconds = float(text)
    except ValueError:
        seconds = _seconds_until_date(text, now or dt.datetime.now(dt.timezone.utc))
    if seconds is None or math.isnan(seconds) or seconds < 0:
        return None
    return min(seconds, MAX_RETRY_AFTER)


def _seconds_until_date(text: str, now: dt.datetime) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        # HTTP dates are always GMT; parsedate_to_datetime leaves "-0000" naive.
        when = when.replace(tzinfo=dt.timezone.utc)
    return max((when - now).total_seconds(), 0.0)
