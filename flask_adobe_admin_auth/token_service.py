"""Access tokens per org: cached, encrypted at rest, minted once at a time.

Reading a token costs a dictionary lookup while this process holds a fresh
copy, then one cache read. When no fresh token exists, one thread per process
takes part in the mint (the others wait on it), and across processes a lease
in the shared cache lets one worker call IMS while the rest poll the cache
for its outcome, token or error.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from .cache import SharedCache
from .crypto import TokenCipher
from .errors import (
    ConfigurationError,
    ConsentRevokedError,
    IMSUnavailable,
    TokenMintFailed,
)
from .mint_policy import Verdict, backoff_delay, classify
from .settings import Settings
from .token_endpoint import TokenEndpoint, TokenFailure, TokenGrant
from .tokens import AccessToken

logger = logging.getLogger(__name__)

# How long waiters can read a leader's failure after it happened.
_OUTCOME_TIMEOUT = 10

OrgRejectedHook = Callable[[str, TokenFailure], None]
MintedHook = Callable[[AccessToken], None]


@dataclass(frozen=True)
class _CachedToken:
    token: AccessToken
    refresh_at: float

    @property
    def is_fresh(self) -> bool:
        return time.time() < self.refresh_at

    @property
    def is_usable(self) -> bool:
        return self.token.expires_in > 0


class TokenService:
    """Gets access tokens for orgs from the cache or from IMS."""

    def __init__(
        self,
        settings: Settings,
        *,
        cache: SharedCache,
        cipher: TokenCipher,
        on_org_rejected: OrgRejectedHook,
        on_minted: MintedHook,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self._cache = cache
        self._cipher = cipher
        self._on_org_rejected = on_org_rejected
        self._on_minted = on_minted
        self._sleep = sleep
        self._endpoint = TokenEndpoint(
            url=settings.token_url,
            client_id=settings.client_id,
            scope=settings.scope_param,
            timeout=settings.http_timeout,
        )
        self._local: dict[str, _CachedToken] = {}
        self._in_flight: dict[str, Future[AccessToken]] = {}
        self._lock = threading.Lock()
        self._secret_position = 0

    # Public operations

    def get_token(self, org_id: str) -> AccessToken:
        """Return a fresh token for ``org_id``, minting one if needed.

        :raises ConsentRevokedError: IMS rejected the org; the consent was revoked.
        :raises IMSUnavailable: IMS could not be reached after retries.
        :raises ConfigurationError: IMS rejected the app's own credentials.
        :raises TokenMintFailed: any other failure.
        """
        key = self._key(org_id)
        local = self._local.get(key)
        if local is not None and local.is_fresh:
            return local.token

        cached = self._read_shared(key)
        if cached is not None and cached.is_fresh:
            self._local[key] = cached
            return cached.token

        return self._mint_once_per_process(key, org_id)

    def invalidate(self, org_id: str) -> None:
        """Drop the cached token of ``org_id`` in this process and the shared cache."""
        key = self._key(org_id)
        self._local.pop(key, None)
        self._cache.delete("token:" + key)
        logger.info("Dropped cached token for org %s", org_id)

    # Single flight inside one process

    def _mint_once_per_process(self, key: str, org_id: str) -> AccessToken:
        with self._lock:
            future = self._in_flight.get(key)
            leader = future is None
            if future is None:
                future = Future()
                self._in_flight[key] = future

        if not leader:
            return future.result(timeout=self.settings.mint_wait_timeout + 5)

        try:
            token = self._mint_once_across_processes(key, org_id)
        except BaseException as error:
            future.set_exception(error)
            raise
        else:
            future.set_result(token)
            return token
        finally:
            with self._lock:
                self._in_flight.pop(key, None)

    # Single flight across processes

    def _mint_once_across_processes(self, key: str, org_id: str) -> AccessToken:
        deadline = time.monotonic() + self.settings.mint_wait_timeout
        holder = secrets.token_hex(8)
        started = time.time()
        poll = 0.02

        while True:
            cached = self._read_shared(key)
            if cached is not None and cached.is_fresh:
                self._local[key] = cached
                return cached.token

            if self._cache.add("lease:" + key, holder, timeout=self.settings.mint_lease_timeout):
                try:
                    return self._mint_and_publish(key, org_id, stale=cached)
                finally:
                    if self._cache.get("lease:" + key) == holder:
                        self._cache.delete("lease:" + key)

            outcome = self._cache.get("outcome:" + key)
            if isinstance(outcome, dict) and float(outcome.get("at", 0)) >= started:
                raise _error_from_outcome(outcome, org_id)

            if time.monotonic() >= deadline:
                logger.warning(
                    "Timed out waiting for another worker's token mint for org %s", org_id
                )
                raise IMSUnavailable(
                    "Timed out waiting for a token for this Adobe org; try again.",
                    code="mint_wait_timeout",
                    org_id=org_id,
                )
            self._sleep(poll)
            poll = min(poll * 1.5, 0.25)

    def _mint_and_publish(self, key: str, org_id: str, stale: _CachedToken | None) -> AccessToken:
        try:
            token = self._mint(org_id)
        except IMSUnavailable as error:
            if stale is not None and stale.is_usable:
                logger.warning(
                    "IMS unavailable while refreshing the token for org %s; serving the cached "
                    "token that expires at %s",
                    org_id,
                    stale.token.expires_at.isoformat(),
                )
                return stale.token
            self._publish_failure(key, error)
            raise
        except TokenMintFailed as error:
            self._publish_failure(key, error)
            raise
        except ConfigurationError as error:
            self._publish_failure(key, error)
            raise

        self._store(key, token)
        self._on_minted(token)
        return token

    def _publish_failure(self, key: str, error: Exception) -> None:
        self._cache.set(
            "outcome:" + key,
            {
                "at": time.time(),
                "kind": type(error).__name__,
                "code": getattr(error, "code", None),
                "message": str(error),
            },
            timeout=_OUTCOME_TIMEOUT,
        )

    # Calling IMS

    def _mint(self, org_id: str) -> AccessToken:
        settings = self.settings
        started = time.monotonic()
        attempt = 0
        org_rejections = 0

        while True:
            attempt += 1
            result = self._request_with_secret_fallback(org_id)
            if isinstance(result, TokenGrant):
                return self._to_token(org_id, result)

            verdict = classify(result, settings.org_rejection_errors)
            _log_failure(org_id, attempt, verdict, result)

            if verdict is Verdict.CONFIGURATION:
                raise TokenMintFailed(
                    f"IMS rejected the token request as misconfigured ({result.error}); check "
                    "ADOBE_ADMIN_AUTH_SCOPES against the credential in the Developer Console.",
                    code=result.error or "configuration",
                    org_id=org_id,
                    status=result.status,
                    debug_id=result.debug_id,
                )
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
                if org_rejections >= 2:
                    self._on_org_rejected(org_id, result)
                    raise ConsentRevokedError(
                        f"IMS rejected tokens for org {org_id}; its consent was revoked.",
                        org_id=org_id,
                        status=result.status,
                        debug_id=result.debug_id,
                    )
                # One rejection may be a glitch; confirm before revoking.
                continue

            # Transient: retry within the attempt and time budget.
            elapsed = time.monotonic() - started
            delay = backoff_delay(attempt, settings.http_backoff, result.retry_after)
            if (
                attempt >= settings.http_max_attempts
                or elapsed + delay > settings.http_max_retry_time
            ):
                raise IMSUnavailable(
                    "Adobe IMS is unavailable; try again in a few minutes.",
                    org_id=org_id,
                    status=result.status,
                    debug_id=result.debug_id,
                )
            logger.info("Retrying token mint for org %s in %.2f s", org_id, delay)
            self._sleep(delay)

    def _request_with_secret_fallback(self, org_id: str) -> TokenGrant | TokenFailure:
        secrets_in_order = self.settings.client_secrets
        count = len(secrets_in_order)
        first = self._secret_position % count

        result: TokenGrant | TokenFailure | None = None
        for offset in range(count):
            position = (first + offset) % count
            result = self._endpoint.request(org_id, secrets_in_order[position])
            if (
                isinstance(result, TokenFailure)
                and classify(result, None) is Verdict.CLIENT_REJECTED
            ):
                logger.warning(
                    "IMS rejected client secret at position %d of %d (x-debug-id %s)",
                    position,
                    count,
                    result.debug_id,
                )
                continue
            if position != self._secret_position:
                logger.warning(
                    "Client secret at position %d of ADOBE_ADMIN_AUTH_CLIENT_SECRETS works; "
                    "using it from now on",
                    position,
                )
                self._secret_position = position
            return result

        logger.error(
            "IMS rejected every configured client secret (%d) for client %s: update "
            "ADOBE_ADMIN_AUTH_CLIENT_SECRET(S) from the Adobe Developer Console",
            count,
            self.settings.client_id,
        )
        assert isinstance(result, TokenFailure)
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

    # Cache

    def _store(self, key: str, token: AccessToken) -> None:
        refresh_at = token.expires_at.timestamp() - self.settings.token_refresh_margin
        entry = _CachedToken(token=token, refresh_at=refresh_at)
        self._cache.delete("outcome:" + key)
        if refresh_at - time.time() < 1:
            # Too short-lived to cache: the caller still gets it.
            logger.info(
                "Token for org %s expires within the refresh margin; not caching it", token.org_id
            )
            return
        self._local[key] = entry
        payload = {"token": self._cipher.encrypt(token.to_json()), "refresh_at": refresh_at}
        # Keep the entry until the token expires so that a failed refresh can
        # fall back to it; readers treat it as stale after refresh_at.
        self._cache.set("token:" + key, payload, timeout=token.expires_in)

    def _read_shared(self, key: str) -> _CachedToken | None:
        payload = self._cache.get("token:" + key)
        if not isinstance(payload, dict):
            return None
        ciphertext = payload.get("token")
        refresh_at = payload.get("refresh_at")
        if not isinstance(ciphertext, str) or not isinstance(refresh_at, (int, float)):
            return None
        plaintext = self._cipher.decrypt(ciphertext)
        token = AccessToken.from_json(plaintext) if plaintext is not None else None
        if token is None or not token.expires_in > 0:
            return None
        return _CachedToken(token=token, refresh_at=float(refresh_at))

    def _key(self, org_id: str) -> str:
        material = "\n".join((self.settings.client_id, org_id, self.settings.scope_param))
        return hashlib.sha256(material.encode()).hexdigest()


def _error_from_outcome(outcome: dict[str, Any], org_id: str) -> Exception:
    message = str(outcome.get("message") or "Token mint failed in another worker.")
    code = outcome.get("code") if isinstance(outcome.get("code"), str) else None
    kind = outcome.get("kind")
    if kind == "ConsentRevokedError":
        return ConsentRevokedError(message, org_id=org_id)
    if kind == "IMSUnavailable":
        return IMSUnavailable(message, code=code, org_id=org_id)
    if kind == "ConfigurationError":
        return ConfigurationError(message, code=code, org_id=org_id)
    return TokenMintFailed(message, code=code, org_id=org_id)


def _log_failure(org_id: str, attempt: int, verdict: Verdict, failure: TokenFailure) -> None:
    logger.warning(
        "Token mint for org %s failed on attempt %d: %s (HTTP %s, error %s, transport %s, "
        "x-debug-id %s)",
        org_id,
        attempt,
        verdict.value,
        failure.status,
        failure.error,
        failure.transport_error,
        failure.debug_id,
    )
