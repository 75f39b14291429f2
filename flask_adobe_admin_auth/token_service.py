"""Access tokens per org: cached, encrypted at rest, minted once at a time.

Reading a token costs a dictionary lookup while this process has a fresh
copy, then one cache read. When no fresh token exists, one thread per
process leads the mint while the others wait on its ``Future``, and across
processes an atomic ``add`` in the shared cache (a lease that expires) lets
one worker call IMS while the rest poll the cache for its outcome, token or
error.

A token is refreshed ``TOKEN_REFRESH_MARGIN`` seconds before it expires.
While one caller refreshes, the others keep using the old token, and when
the refresh fails transiently the old token is served until it expires.
"""

from __future__ import annotations

import concurrent.futures
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

from .cache import CACHE_ERRORS, SharedCache
from .crypto import TokenCipher
from .errors import (
    AdobeAdminAuthError,
    ConfigurationError,
    ConsentRevokedError,
    IMSUnavailable,
    TokenMintFailed,
)
from .mint_policy import Verdict, backoff_delay, classify, org_rejections_to_revoke
from .settings import Settings
from .token_endpoint import TokenEndpoint, TokenFailure, TokenGrant
from .tokens import AccessToken

logger = logging.getLogger(__name__)

#: Seconds a leader's failure stays readable for the workers that waited on it.
OUTCOME_TIMEOUT = 10

#: A token with less time left than this is not handed out.
MIN_USABLE_LIFETIME = 1.0

#: Maximum delay before retrying a refresh that failed while the old token was still valid.
REFRESH_RETRY_DELAY = 30.0

# Polling interval bounds, in seconds, while another worker holds the lease.
_POLL_FIRST = 0.02
_POLL_MAX = 0.25

OrgRejectedHook = Callable[[str, TokenFailure], None]
MintedHook = Callable[[AccessToken], None]


@dataclass(frozen=True)
class _CachedToken:
    token: AccessToken
    refresh_at: float
    stored_at: float

    @property
    def is_fresh(self) -> bool:
        return time.time() < self.refresh_at

    @property
    def is_usable(self) -> bool:
        return self.token.expires_in > MIN_USABLE_LIFETIME


class TokenService:
    """Gets access tokens for orgs from the cache or from IMS.

    :param sleep: waits between retries of IMS; tests replace it to record
        the backoff without waiting.
    """

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
        self.sleep = sleep
        self._cache = cache
        self._cipher = cipher
        self._on_org_rejected = on_org_rejected
        self._on_minted = on_minted
        self._endpoint = TokenEndpoint(
            url=settings.token_url,
            client_id=settings.client_id,
            scope=settings.scope_param,
            timeout=settings.http_timeout,
        )
        self._keys: dict[str, str] = {}
        self._local: dict[str, _CachedToken] = {}
        self._in_flight: dict[str, Future[AccessToken]] = {}
        self._lock = threading.Lock()
        self._secret_position = 0
        self._warned_short_lifetime = False

    # Public operations

    def get_token(self, org_id: str) -> AccessToken:
        """Return a fresh token for ``org_id``, minting one if needed.

        :raises ConsentRevokedError: IMS rejected the org; its consent was revoked.
        :raises IMSUnavailable: IMS could not be reached after retries.
        :raises ConfigurationError: IMS rejected the app's credentials or scopes.
        :raises TokenMintFailed: any other failure.
        """
        key = self._key(org_id)
        local = self._local.get(key)
        if local is not None and local.is_fresh:
            return local.token

        started = time.time()
        cached = self._read_shared(key)
        if cached is not None and cached.is_fresh:
            self._local[key] = cached
            return cached.token

        stale = cached if cached is not None and cached.is_usable else None
        return self._mint_once_per_process(key, org_id, started, stale)

    def invalidate(self, org_id: str, *, only: AccessToken | None = None) -> bool:
        """Drop the cached token of ``org_id`` in this process and in the shared cache.

        :param only: drop the cached token only while it is this one, so that
            several callers that saw the same token fail do not drop each
            other's replacement.
        :returns: whether a token was dropped (``True`` also when none was cached).
        """
        key = self._key(org_id)
        if only is not None:
            current = self._local.get(key) or self._read_shared(key)
            if current is not None and current.token.access_token != only.access_token:
                logger.debug("Cached token of org %s was already replaced", org_id)
                return False

        self._local.pop(key, None)
        self._cache.try_delete("token:" + key)
        logger.info("Dropped cached token for org %s", org_id)
        return True

    # Single flight inside one process

    def _mint_once_per_process(
        self, key: str, org_id: str, started: float, stale: _CachedToken | None
    ) -> AccessToken:
        with self._lock:
            future = self._in_flight.get(key)
            leader = future is None
            if future is None:
                future = Future()
                self._in_flight[key] = future

        if not leader:
            if stale is not None:
                # Another thread refreshes; the old token is still good meanwhile.
                return stale.token
            return self._wait_for(future, org_id)

        try:
            token = self._mint_once_across_processes(key, org_id, started, stale)
        except BaseException as error:
            future.set_exception(error)
            raise
        else:
            future.set_result(token)
            return token
        finally:
            with self._lock:
                self._in_flight.pop(key, None)

    def _wait_for(self, future: Future[AccessToken], org_id: str) -> AccessToken:
        try:
            return future.result(timeout=self.settings.mint_wait_timeout)
        except concurrent.futures.TimeoutError:
            logger.warning("Timed out waiting for this process's token mint for org %s", org_id)
            raise _wait_timeout(org_id) from None

    # Single flight across processes

    def _mint_once_across_processes(
        self, key: str, org_id: str, started: float, stale: _CachedToken | None
    ) -> AccessToken:
        deadline = time.monotonic() + self.settings.mint_wait_timeout
        lease = "lease:" + key
        holder = secrets.token_hex(8)
        poll = _POLL_FIRST

        while True:
            cached = self._read_shared(key)
            if cached is not None and cached.is_fresh:
                self._local[key] = cached
                return cached.token
            if cached is not None and cached.stored_at >= started and cached.is_usable:
                # Minted by the worker we waited for, but already due for refresh.
                return cached.token

            failure = self._read_outcome(key, org_id, started)
            if failure is not None:
                raise failure

            if self._take_lease(lease, holder):
                try:
                    return self._mint_and_publish(key, org_id, stale)
                finally:
                    if self._cache.try_get(lease) == holder:
                        self._cache.try_delete(lease)

            if stale is not None and stale.is_usable:
                return stale.token
            if time.monotonic() >= deadline:
                logger.warning(
                    "Timed out waiting for another worker's token mint for org %s", org_id
                )
                raise _wait_timeout(org_id)

            time.sleep(poll)
            poll = min(poll * 1.5, _POLL_MAX)

    def _take_lease(self, lease: str, holder: str) -> bool:
        try:
            return self._cache.add(lease, holder, timeout=self.settings.mint_lease_timeout)
        except CACHE_ERRORS as error:
            # Without the shared cache each process mints on its own, which
            # beats failing every request until the cache is back.
            logger.warning(
                "Cache unreachable for the mint lease (%s); minting without it",
                type(error).__name__,
            )
            return True

    def _mint_and_publish(self, key: str, org_id: str, stale: _CachedToken | None) -> AccessToken:
        try:
            token = self._mint(org_id)
        except IMSUnavailable as error:
            if stale is not None and stale.is_usable:
                self._postpone_refresh(key, stale)
                return stale.token
            self._publish_failure(key, error)
            raise
        except (TokenMintFailed, ConfigurationError) as error:
            self._publish_failure(key, error)
            raise

        self._store(key, token)
        self._on_minted(token)
        return token

    def _postpone_refresh(self, key: str, stale: _CachedToken) -> None:
        # Every worker keeps the old token for a while instead of each one
        # calling IMS again while it is down.
        delay = min(REFRESH_RETRY_DELAY, stale.token.expires_in / 2)
        logger.warning(
            "IMS unavailable while refreshing the token for org %s; serving the cached token "
            "that expires at %s and retrying in %.0f s",
            stale.token.org_id,
            stale.token.expires_at.isoformat(),
            delay,
        )
        entry = _CachedToken(stale.token, refresh_at=time.time() + delay, stored_at=time.time())
        self._write_shared(key, entry)
        self._local[key] = entry

    def _publish_failure(self, key: str, error: AdobeAdminAuthError) -> None:
        self._cache.try_set(
            "outcome:" + key,
            {
                "at": time.time(),
                "kind": type(error).__name__,
                "code": error.code,
                "message": str(error),
                "status": getattr(error, "status", None),
                "debug_id": getattr(error, "debug_id", None),
            },
            timeout=OUTCOME_TIMEOUT,
        )

    def _read_outcome(self, key: str, org_id: str, started: float) -> Exception | None:
        outcome = self._cache.try_get("outcome:" + key)
        if not isinstance(outcome, dict):
            return None
        at = outcome.get("at")
        if not isinstance(at, (int, float)) or at < started:
            # A failure from before this request began; this request tries afresh.
            return None
        return _error_from_outcome(outcome, org_id)

    # Calling IMS

    def _mint(self, org_id: str) -> AccessToken:
        settings = self.settings
        started = time.monotonic()
        rejections_to_revoke = org_rejections_to_revoke(settings.org_rejection_errors)
        attempt = 0
        org_rejections = 0
        retries = 0

        while True:
            attempt += 1
            result = self._request_with_secret_fallback(org_id)
            if isinstance(result, TokenGrant):
                return self._to_token(org_id, result)

            verdict = classify(result, settings.org_rejection_errors)
            _log_failure(org_id, attempt, verdict, result)

            if verdict in (Verdict.CONFIGURATION, Verdict.CLIENT_REJECTED):
                logger.error(
                    "IMS rejected the token request for org %s as misconfigured (HTTP %s, "
                    "error %s, x-debug-id %s): check ADOBE_ADMIN_AUTH_SCOPES and "
                    "ADOBE_ADMIN_AUTH_TOKEN_URL against the credential in the Developer Console",
                    org_id,
                    result.status,
                    result.error,
                    result.debug_id,
                )
                raise ConfigurationError(
                    f"IMS rejected the token request as misconfigured "
                    f"({result.error or result.status}); check ADOBE_ADMIN_AUTH_SCOPES and "
                    "ADOBE_ADMIN_AUTH_TOKEN_URL.",
                    code=result.error or "token_request_rejected",
                    org_id=org_id,
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
                if org_rejections >= rejections_to_revoke:
                    self._on_org_rejected(org_id, result)
                    raise ConsentRevokedError(
                        f"IMS rejected tokens for org {org_id}; its consent was revoked.",
                        org_id=org_id,
                        status=result.status,
                        debug_id=result.debug_id,
                    )
                logger.info("Asking IMS again to confirm the rejection of org %s", org_id)
                continue

            retries += 1
            elapsed = time.monotonic() - started
            delay = backoff_delay(retries, settings.http_backoff, result.retry_after)
            if (
                attempt >= settings.http_max_attempts
                or elapsed + delay > settings.http_max_retry_time
            ):
                logger.error(
                    "Giving up on a token for org %s after %d attempts in %.1f s",
                    org_id,
                    attempt,
                    elapsed,
                )
                raise IMSUnavailable(
                    "Adobe IMS is unavailable; try again in a few minutes.",
                    org_id=org_id,
                    status=result.status,
                    debug_id=result.debug_id,
                )
            logger.info("Retrying the token request for org %s in %.2f s", org_id, delay)
            self.sleep(delay)

    def _request_with_secret_fallback(self, org_id: str) -> TokenGrant | TokenFailure:
        secrets_in_order = self.settings.client_secrets
        count = len(secrets_in_order)
        first = self._secret_position % count

        for offset in range(count):
            position = (first + offset) % count
            result = self._endpoint.request(org_id, secrets_in_order[position])
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

    # Cache

    def _store(self, key: str, token: AccessToken) -> None:
        now = time.time()
        entry = _CachedToken(
            token=token,
            refresh_at=token.expires_at.timestamp() - self.settings.token_refresh_margin,
            stored_at=now,
        )
        self._cache.try_delete("outcome:" + key)

        if not entry.is_fresh and not self._warned_short_lifetime:
            self._warned_short_lifetime = True
            logger.warning(
                "IMS minted a token for org %s that lives %.0f s, within "
                "ADOBE_ADMIN_AUTH_TOKEN_REFRESH_MARGIN (%d s): every request will refresh it; "
                "lower the margin",
                token.org_id,
                token.expires_in,
                self.settings.token_refresh_margin,
            )
        if entry.is_fresh:
            self._local[key] = entry

        # The entry stays until the token expires, so that a failed refresh
        # can fall back to it; readers treat it as stale after refresh_at. A
        # token with less than a second left is not stored at all, and the
        # caller still gets it.
        if not self._write_shared(key, entry):
            logger.info("Token for org %s expires within a second; not caching it", token.org_id)

    def _write_shared(self, key: str, entry: _CachedToken) -> bool:
        payload = {
            "token": self._cipher.encrypt(entry.token.to_json()),
            "refresh_at": entry.refresh_at,
            "stored_at": entry.stored_at,
        }
        return self._cache.try_set("token:" + key, payload, timeout=entry.token.expires_in)

    def _read_shared(self, key: str) -> _CachedToken | None:
        payload = self._cache.try_get("token:" + key)
        if not isinstance(payload, dict):
            return None
        ciphertext = payload.get("token")
        refresh_at = payload.get("refresh_at")
        stored_at = payload.get("stored_at", 0.0)
        if (
            not isinstance(ciphertext, str)
            or not isinstance(refresh_at, (int, float))
            or not isinstance(stored_at, (int, float))
        ):
            return None

        plaintext = self._cipher.decrypt(ciphertext)
        token = AccessToken.from_json(plaintext) if plaintext is not None else None
        if token is None or token.expires_in <= 0:
            return None
        return _CachedToken(token=token, refresh_at=float(refresh_at), stored_at=float(stored_at))

    def _key(self, org_id: str) -> str:
        key = self._keys.get(org_id)
        if key is None:
            material = "\n".join((self.settings.client_id, org_id, self.settings.scope_param))
            key = hashlib.sha256(material.encode()).hexdigest()
            self._keys[org_id] = key
        return key


def _wait_timeout(org_id: str) -> IMSUnavailable:
    return IMSUnavailable(
        "Timed out waiting for a token for this Adobe org; try again.",
        code="mint_wait_timeout",
        org_id=org_id,
    )


def _error_from_outcome(outcome: dict[str, Any], org_id: str) -> Exception:
    message = str(outcome.get("message") or "Token mint failed in another worker.")
    code = outcome.get("code") if isinstance(outcome.get("code"), str) else None
    status = outcome.get("status") if isinstance(outcome.get("status"), int) else None
    debug_id = outcome.get("debug_id") if isinstance(outcome.get("debug_id"), str) else None
    kind = outcome.get("kind")

    if kind == "ConsentRevokedError":
        return ConsentRevokedError(message, org_id=org_id, status=status, debug_id=debug_id)
    if kind == "IMSUnavailable":
        return IMSUnavailable(message, code=code, org_id=org_id, status=status, debug_id=debug_id)
    if kind == "ConfigurationError":
        return ConfigurationError(message, code=code, org_id=org_id)
    return TokenMintFailed(message, code=code, org_id=org_id, status=status, debug_id=debug_id)


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
