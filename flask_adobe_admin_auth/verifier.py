"""Verification of the id_token that Adobe sends back with a consent.

Order matters: the header is checked before any key is looked up, the
signature before any claim is read, and every claim before the org id is
trusted. Each failure raises :class:`ConsentRejected` with a code that names
the check.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeGuard

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jws import JWSRegistry
from joserfc.registry import HeaderParameter

from .cache import SharedCache
from .consent_request import digest, values_equal
from .errors import ConsentRejected
from .jwks import JWKSClient, JWKSUnavailable
from .models import ID_MAX_LENGTH

logger = logging.getLogger(__name__)

ALGORITHM = "RS256"

# Adobe's tokens carry `x5u` as a bare file name (joserfc expects a URL) and
# a private `itt` header. Accept both as plain strings and keep every other
# header check of joserfc 1.8.
_REGISTRY = JWSRegistry(
    header_registry={
        "x5u": HeaderParameter("X.509 URL, a bare file name in Adobe's tokens", "str"),
        "itt": HeaderParameter("Adobe's token type", "str"),
    },
    algorithms=[ALGORITHM],
)

# Org ids look like `0123456789ABCDEF01234567@AdobeOrg`; accept any printable
# value without whitespace so that an unexpected format is still stored as given.
# The length limit is the column's, so a verified org id can always be stored.
_ORG_ID_PATTERN = re.compile(rf"^[\x21-\x7e]{{1,{ID_MAX_LENGTH}}}$")


@dataclass(frozen=True)
class VerifiedIdToken:
    """The claims of an id_token that passed every check."""

    org_id: str
    technical_account_id: str
    expires_at: int
    issued_at: int


class IdTokenVerifier:
    """Checks signature, header and claims of Adobe id_tokens."""

    def __init__(
        self,
        *,
        jwks: JWKSClient,
        cache: SharedCache,
        client_id: str,
        issuers: tuple[str, ...],
        leeway: int,
        org_id_claim: str,
        max_length: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._jwks = jwks
        self._cache = cache
        self._client_id = client_id
        self._issuers = issuers
        self._leeway = leeway
        self._org_id_claim = org_id_claim
        self._max_length = max_length
        self._clock = clock

    def verify(self, id_token: str, *, nonce: str) -> VerifiedIdToken:
        """Verify ``id_token`` against the ``nonce`` of the pending request.

        A token that passes is remembered until it expires, so the same token
        cannot link a second time.

        :raises ConsentRejected: with the failed check as its ``code``.
        """
        if len(id_token) > self._max_length:
            raise _reject("id_token_too_long", "The id_token is longer than the accepted limit.")

        kid = self._check_header(id_token)
        key = self._find_key(kid)
        try:
            token = jwt.decode(id_token, key, algorithms=[ALGORITHM], registry=_REGISTRY)
        except JoseError as error:
            raise _reject(
                "id_token_signature_invalid",
                f"The id_token signature or header is invalid ({error.error}).",
            ) from None
        claims = token.claims

        now = self._clock()
        self._check_issuer(claims)
        self._check_audience(claims)
        expires_at, issued_at = self._check_times(claims, now)
        if not values_equal(nonce, _string_claim(claims, "nonce")):
            raise _reject("nonce_mismatch", "The id_token was issued for another consent request.")

        org_id = self._org_id(claims)
        subject = _string_claim(claims, "sub")
        if subject is None or len(subject) > ID_MAX_LENGTH:
            raise _reject("sub_missing", "The id_token names no technical account (sub).")

        # Remember the token until it expires; a second use is a replay.
        lifetime = expires_at + self._leeway - now
        if not self._cache.add("id_token:" + digest(id_token), 1, timeout=max(lifetime, 1)):
            raise _reject("id_token_replayed", "This id_token was already used.", org_id=org_id)

        return VerifiedIdToken(
            org_id=org_id,
            technical_account_id=subject,
            expires_at=expires_at,
            issued_at=issued_at,
        )

    def _check_header(self, id_token: str) -> str:
        parts = id_token.split(".")
        if len(parts) != 3 or not all(parts[:2]):
            raise _reject("id_token_malformed", "The id_token is not a signed JWT.")
        try:
            header = json.loads(_b64decode(parts[0]))
        except (ValueError, UnicodeError, RecursionError):
            # A header of thousands of nested brackets exhausts the json parser's
            # recursion limit; it is garbage like any other undecodable header.
            raise _reject("id_token_malformed", "The id_token header does not decode.") from None
        if not isinstance(header, dict):
            raise _reject("id_token_malformed", "The id_token header is not a JSON object.")

        algorithm = header.get("alg")
        if algorithm != ALGORITHM:
            raise _reject(
                "id_token_algorithm_rejected",
                f"The id_token uses algorithm {str(algorithm)[:20]!r}; only RS256 is accepted.",
            )
        if "crit" in header:
            raise _reject("id_token_malformed", "The id_token has critical header extensions.")

        kid = header.get("kid")
        if not isinstance(kid, str) or not kid or len(kid) > 200:
            raise _reject("id_token_kid_missing", "The id_token header names no signing key (kid).")
        return kid

    def _find_key(self, kid: str) -> Any:
        try:
            key = self._jwks.get_key(kid)
        except JWKSUnavailable:
            raise _reject(
                "jwks_unavailable",
                "Adobe's signing keys could not be fetched; try again in a minute.",
                status=503,
            ) from None
        if key is None:
            raise _reject(
                "id_token_kid_unknown", f"The id_token is signed with unknown key {kid!r}."
            )
        return key

    def _check_issuer(self, claims: dict[str, Any]) -> None:
        issuer = claims.get("iss")
        if not isinstance(issuer, str) or issuer not in self._issuers:
            raise _reject("issuer_mismatch", "The id_token was not issued by Adobe IMS.")

    def _check_audience(self, claims: dict[str, Any]) -> None:
        audience = claims.get("aud")
        # RFC 7519 allows a list; accept one only when it names this client alone.
        if isinstance(audience, list) and len(audience) == 1:
            audience = audience[0]
        if not isinstance(audience, str) or not values_equal(self._client_id, audience):
            raise _reject("audience_mismatch", "The id_token was issued for another client.")

    def _check_times(self, claims: dict[str, Any], now: float) -> tuple[int, int]:
        expires_at = claims.get("exp")
        issued_at = claims.get("iat")
        if not _is_timestamp(expires_at):
            raise _reject("exp_missing", "The id_token has no valid expiry (exp).")
        if not _is_timestamp(issued_at):
            raise _reject("iat_missing", "The id_token has no valid issue time (iat).")
        if expires_at + self._leeway < now:
            raise _reject("id_token_expired", "The id_token has expired; connect again.")
        if issued_at - self._leeway > now:
            raise _reject("iat_in_future", "The id_token claims to be issued in the future.")
        return int(expires_at), int(issued_at)

    def _org_id(self, claims: dict[str, Any]) -> str:
        camel = claims.get("orgId")
        snake = claims.get("org_id")
        if camel is not None and snake is not None and camel != snake:
            raise _reject("org_id_conflict", "The id_token names two different org ids.")

        preferred, other = (camel, snake) if self._org_id_claim == "orgId" else (snake, camel)
        org_id = preferred if preferred is not None else other
        if not isinstance(org_id, str) or not _ORG_ID_PATTERN.match(org_id):
            raise _reject("org_id_missing", "The id_token names no valid org id.")
        return org_id


def _reject(
    code: str, message: str, *, status: int = 400, org_id: str | None = None
) -> ConsentRejected:
    return ConsentRejected(message, code=code, status=status, org_id=org_id)


def _string_claim(claims: dict[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value if isinstance(value, str) and value else None


def _is_timestamp(value: Any) -> TypeGuard[int | float]:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def _b64decode(segment: str) -> bytes:
    padded = segment + "=" * (-len(segment) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii"))
