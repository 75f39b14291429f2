"""Minting one access token from IMS: retries, client secret fallback, a deadline.

A mint runs under the cross-process lease, so it must end before the lease
expires: otherwise another worker takes the lease and mints too, and the
callers waiting on the first mint outlast ``MINT_WAIT_TIMEOUT``. Each HTTP
attempt therefore gets at most the time left until the deadline, and no
retry starts after it.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable

from .errors import ConfigurationError, ConsentRevokedError, IMSUnavailable, TokenMintFailed
from .mint_policy import Verdict, backoff_delay, classify, org_rejections_to_revoke
from .settings import Settings
from .token_cache import MIN_USABLE_LIFETIME
from .token_endpoint import INVALID_TOKEN_RESPONSE, TokenEndpoint, TokenFailure, TokenGrant
from .tokens import AccessToken

logger = logging.getLogger(__name__)

OrgRejectedHook = Callable[[str, TokenFailure], None]

#: Called with the seconds IMS asked to wait in a ``Retry-After`` header.
ThrottledHook = Callable[[str, float], None]


class TokenMinter:
    """Asks IMS for a token of one org, retrying transient failures within a deadline.

    :param sleep: waits between retries; tests replace it to record the
        backoff without waiting.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        endpoint: TokenEndpoint,
        on_org_rejected: OrgRejectedHook,
        on_throttled: ThrottledHook,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.sleep = sleep
        self._endpoint = endpoint
        self._on_org_rejected = on_org_rejected
        self._on_throttled = on_throttled
        self._rejections_to_revoke = org_rejections_to_revoke(settings.org_rejection_errors)
        self._secret_position = 0

    def mint(self, org_id: str, *, deadline: float) -> AccessToken:
        """Mint a token for ``org_id``, giving up at ``deadline`` (a ``time.monotonic`` value).

        :raises ConsentRevokedError: IMS rejected the org; its consent was revoked.
        :raises IMSUnavailable: IMS failed transiently until the retry budget
            or the deadline ran out, or asked to wait longer than that.
        :raises ConfigurationError: IMS rejected the app's credentials or scopes.
        :raises TokenMintFailed: any other failure.
        """
        settings = self.settings
        started = time.monotonic()
        give_up_at = min(deadline, started + settings.http_max_retry_time)
        attempt = 0
        org_rejections = 0
        retries = 0

        while True:
            attempt += 1
            result = self._request_with_secret_fallback(org_id, deadline)
            if isinstance(result, TokenGrant):
                if result.expires_in >= MIN_USABLE_LIFETIME:
                    return self._to_token(org_id, result)
                result = TokenFailure(
                    status=200,
                    error=INVALID_TOKEN_RESPONSE,
                    description=f"expires_in {result.expires_in} s is too short to use",
                    debug_id=None,
                    retry_after=None,
                )

            verdict = classify(result, settings.org_rejection_errors)
            _log_failure(org_id, attempt, verdict, result)

            if verdict in (Verdict.CONFIGURATION, Verdict.CLIENT_REJECTED):
                raise _configuration_error(org_id, result)
            if verdict is Verdict.FAILED:
                raise TokenMintFailed(
                    f"IMS did not mint a token for org {org_id} ({result.error or result.status}).",
                    code=result.error or "token_mint_failed",
                    org_id=org_id,
                    status=result.status,
                    debug_id=result.debug_id,
                )
            if verdict is Verdict.ORG_REJECTED:
                org_rejections += 1
                if org_rejections >= self._rejections_to_revoke:
                    self._on_org_rejected(org_id, result)
                    raise ConsentRevokedError(
                        f"IMS rejected tokens for org {org_id}; its consent was revoked.",
                        org_id=org_id,
                        status=result.status,
                        debug_id=result.debug_id,
                    )
                logger.info("Asking IMS again to confirm the rejection of org %s", org_id)
                continue

            if result.retry_after is not None:
                self._on_throttled(org_id, result.retry_after)
            retries += 1
            now = time.monotonic()
            delay = backoff_delay(retries, settings.http_backoff, result.retry_after)
            if attempt >= settings.http_max_attempts or now + delay > give_up_at:
                logger.error(
                    "Giving up on a token for org %s after %d attempts in %.1f s (next retry "
                    "in %.1f s would pass the retry budget or the mint lease)",
                    org_id,
                    attempt,
                    now - started,
                    delay,
                )
                raise IMSUnavailable(
                    "Adobe IMS is unavailable; try again in a few minutes.",
                    org_id=org_id,
                    status=result.status,
                    debug_id=result.debug_id,
                )
            logger.info("Retrying the token request for org %s in %.2f s", org_id, delay)
            self.sleep(delay)

    def _request_with_secret_fallback(
        self, org_id: str, deadline: float
    ) -> TokenGrant | TokenFailure:
        secrets_in_order = self.settings.client_secrets
        count = len(secrets_in_order)
        first = self._secret_position % count

        for offset in range(count):
            time_left = deadline - time.monotonic()
            if time_left <= 0:
                # Reported as a timeout, which the caller treats as transient.
                return TokenFailure(
                    status=None,
                    error=None,
                    description=None,
                    debug_id=None,
                    retry_after=None,
                    transport_error="MintDeadlineExceeded",
                )

            position = (first + offset) % count
            result = self._endpoint.request(org_id, secrets_in_order[position], timeout=time_left)
            if (
                isinstance(result, TokenFailure)
                and classify(result, None) is Verdict.CLIENT_REJECTED
            ):
                logger.warning(
                    "IMS rejected client secret %d of %d in ADOBE_ADMIN_AUTH_CLIENT_SECRETS "
                    "(HTTP %s, error %s, x-debug-id %s)",
                    position + 1,
                    count,
                    result.status,
                    result.error,
                    result.debug_id,
                )
                continue

            if position != self._secret_position:
                logger.warning(
                    "Client secret %d of %d in ADOBE_ADMIN_AUTH_CLIENT_SECRETS works; this "
                    "process uses it from now on",
                    position + 1,
                    count,
                )
                self._secret_position = position
            return result

        logger.error(
            "IMS rejected every configured client secret (%d) of client %s: update "
            "ADOBE_ADMIN_AUTH_CLIENT_SECRET or ADOBE_ADMIN_AUTH_CLIENT_SECRETS from the Adobe "
            "Developer Console; no consent is revoked",
            count,
            self.settings.client_id,
        )
        raise ConfigurationError(
            "IMS rejected every configured client secret; update ADOBE_ADMIN_AUTH_CLIENT_SECRET.",
            code="invalid_client",
            org_id=org_id,
        )

    def _to_token(self, org_id: str, grant: TokenGrant) -> AccessToken:
        lifetime = grant.expires_in
        if lifetime > self.settings.token_max_lifetime:
            logger.warning(
                "IMS returned expires_in %.0f s for org %s; capping it at %d s",
                lifetime,
                org_id,
                self.settings.token_max_lifetime,
            )
            lifetime = self.settings.token_max_lifetime
        expires_at = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=lifetime)
        logger.info("Minted a token for org %s that expires in %.0f s", org_id, lifetime)
        return AccessToken(
            access_token=grant.access_token,
            org_id=org_id,
            expires_at=expires_at,
            scopes=self.settings.scopes,
        )


def _configuration_error(org_id: str, failure: TokenFailure) -> ConfigurationError:
    if failure.status is not None and 300 <= failure.status < 400:
        hint = "ADOBE_ADMIN_AUTH_TOKEN_URL must be the final URL: redirects are not followed"
    else:
        hint = (
            "check ADOBE_ADMIN_AUTH_SCOPES and ADOBE_ADMIN_AUTH_TOKEN_URL against the "
            "credential in the Developer Console"
        )
    logger.error(
        "IMS rejected the token request for org %s as misconfigured (HTTP %s, error %s, "
        "x-debug-id %s): %s",
        org_id,
        failure.status,
        failure.error,
        failure.debug_id,
        hint,
    )
    return ConfigurationError(
        f"IMS rejected the token request as misconfigured ({failure.error or failure.status}); "
        f"{hint}.",
        code=failure.error or "token_request_rejected",
        org_id=org_id,
    )


def _log_failure(org_id: str, attempt: int, verdict: Verdict, failure: TokenFailure) -> None:
    logger.warning(
        "Token request for org %s failed on attempt %d: %s (HTTP %s, error %s, transport %s, "
        "x-debug-id %s)",
        org_id,
        attempt,
        verdict.value,
        failure.status,
        failure.error,
        failure.transport_error,
        failure.debug_id,
    )
