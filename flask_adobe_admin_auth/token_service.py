"""Access tokens per org: single flight of mints in one process and across processes.

Reading a token costs a dictionary lookup while this process has a fresh
copy, then one cache read (see :mod:`.token_cache`). When no fresh token
exists, one thread per process leads the mint while the others wait on its
``Future``. Across processes, an atomic ``add`` in the shared cache takes a
lease that expires: one worker calls IMS (see :mod:`.token_minter`) while
the rest poll the cache for its outcome, token or error.

A token is refreshed ``TOKEN_REFRESH_MARGIN`` seconds before it expires.
While one caller refreshes, the others keep using the old token, and when
the refresh fails transiently the old token is served until it expires.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import logging
import math
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
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
from .settings import Settings
from .token_cache import CachedToken, TokenCache
from .token_endpoint import TokenEndpoint
from .token_minter import OrgRejectedHook, TokenMinter
from .tokens import AccessToken

logger = logging.getLogger(__name__)

#: Seconds a leader's failure stays readable for the workers that waited on it.
OUTCOME_TIMEOUT = 10

#: Maximum safety margin, in seconds, between the end of a mint and the end of its lease.
MAX_LEASE_MARGIN = 1.0

# Polling interval bounds, in seconds, while another worker holds the lease.
_POLL_FIRST = 0.02
_POLL_MAX = 0.25

MintedHook = Callable[[AccessToken], None]

#: Raises when ``org_id`` may not get a new token (for example, no active consent).
CheckOrgHook = Callable[[str], None]


class TokenService:
    """Gets access tokens for orgs from the cache or from IMS.

    :param check_org: called before each mint, but not on a cache hit, so
        that the hot path makes no database query; it raises to stop the
        mint, for example :class:`~flask_adobe_admin_auth.NoActiveConsent`.
    :param sleep: waits between retries of IMS; tests replace it (also later,
        through the :attr:`sleep` attribute) to record the backoff without waiting.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        cache: SharedCache,
        cipher: TokenCipher,
        on_org_rejected: OrgRejectedHook,
        on_minted: MintedHook,
        check_org: CheckOrgHook | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self._cache = cache
        self._tokens = TokenCache(settings, cache=cache, cipher=cipher)
        self._minter = TokenMinter(
            settings,
            endpoint=TokenEndpoint.from_settings(settings),
            on_org_rejected=on_org_rejected,
            on_throttled=self._remember_retry_after,
            sleep=sleep,
        )
        self._on_minted = on_minted
        self._check_org = check_org
        self._in_flight: dict[str, Future[AccessToken]] = {}
        self._lock = threading.Lock()
        client_digest = hashlib.sha256(settings.client_id.encode()).hexdigest()
        self._retry_after_key = "ims_retry_after:" + client_digest

    @property
    def sleep(self) -> Callable[[float], None]:
        """The function that waits between retries of IMS."""
        return self._minter.sleep

    @sleep.setter
    def sleep(self, value: Callable[[float], None]) -> None:
        self._minter.sleep = value

    # Public operations

    def get_token(self, org_id: str) -> AccessToken:
        """Return a fresh token for ``org_id``, minting one if needed.

        :raises ConsentRevokedError: IMS rejected the org; its consent was revoked.
        :raises IMSUnavailable: IMS could not be reached after retries, or
            asked in a ``Retry-After`` header to wait longer.
        :raises ConfigurationError: IMS rejected the app's credentials or scopes.
        :raises TokenMintFailed: any other failure.
        :raises Exception: whatever ``check_org`` raises before a mint.
        """
        key = self._tokens.key(org_id)
        local = self._tokens.local(key)
        if local is not None:
            return local.token

        started = time.time()
        cached = self._tokens.read(key, org_id)
        if cached is not None and cached.is_fresh:
            self._tokens.remember(key, cached)
            return cached.token

        stale = cached if cached is not None and cached.is_usable else None
        wait = self._retry_after_left()
        if wait is not None:
            if stale is not None:
                return stale.token
            raise _retry_after_error(org_id, wait)
        return self._mint_once_per_process(key, org_id, started, stale)

    def invalidate(self, org_id: str, *, only: AccessToken | None = None) -> bool:
        """Drop the cached token of ``org_id`` in this process and in the shared cache.

        Other processes keep their own copy for up to ``CONSENT_LOCAL_TIMEOUT``
        seconds, then read the shared cache again and mint.

        :param only: drop the cached token only while it is this one, so that
            several callers that saw the same token fail do not drop each
            other's replacement.
        :returns: whether a token was dropped (``True`` also when none was cached).
        """
        key = self._tokens.key(org_id)
        if only is not None:
            current = self._tokens.local(key) or self._tokens.read(key, org_id)
            if current is not None and current.token.access_token != only.access_token:
                logger.debug("Cached token of org %s was already replaced", org_id)
                return False

        self._tokens.drop(key)
        logger.info("Dropped cached token for org %s", org_id)
        return True

    # Single flight inside one process

    def _mint_once_per_process(
        self, key: str, org_id: str, started: float, stale: CachedToken | None
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
        self, key: str, org_id: str, started: float, stale: CachedToken | None
    ) -> AccessToken:
        deadline = time.monotonic() + self.settings.mint_wait_timeout
        lease = "lease:" + key
        holder = secrets.token_hex(8)
        poll = _POLL_FIRST

        while True:
            token = self._token_or_failure_since(key, org_id, started)
            if token is not None:
                return token

            if self._take_lease(lease, holder):
                lease_end = time.monotonic() + self.settings.mint_lease_timeout
                try:
                    # Another worker may have stored its token and released
                    # the lease between our read above and our lease.
                    token = self._token_or_failure_since(key, org_id, started)
                    if token is not None:
                        return token
                    return self._mint_and_publish(key, org_id, stale, lease_end)
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

    def _token_or_failure_since(self, key: str, org_id: str, started: float) -> AccessToken | None:
        """Return a token another worker stored, raise the failure it published, or ``None``."""
        cached = self._tokens.read(key, org_id)
        if cached is not None and cached.is_fresh:
            self._tokens.remember(key, cached)
            return cached.token
        if cached is not None and cached.stored_at >= started and cached.is_usable:
            # Minted by the worker we waited for, but already due for refresh.
            return cached.token

        failure = self._read_outcome(key, org_id, started)
        if failure is not None:
            raise failure
        return None

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

    def _mint_and_publish(
        self, key: str, org_id: str, stale: CachedToken | None, lease_end: float
    ) -> AccessToken:
        if self._check_org is not None:
            self._check_org(org_id)

        # The mint must end before the lease does, or a second worker mints too.
        margin = min(MAX_LEASE_MARGIN, self.settings.mint_lease_timeout / 4)
        try:
            wait = self._retry_after_left()
            if wait is not None:
                raise _retry_after_error(org_id, wait)
            token = self._minter.mint(org_id, deadline=lease_end - margin)
        except IMSUnavailable as error:
            if stale is not None and stale.is_usable:
                self._tokens.postpone_refresh(key, stale)
                return stale.token
            self._publish_failure(key, error)
            raise
        except (TokenMintFailed, ConfigurationError) as error:
            self._publish_failure(key, error)
            raise

        self._cache.try_delete("outcome:" + key)
        self._tokens.store(key, token)
        self._on_minted(token)
        return token

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

    # Retry-After, shared by every worker of this client id

    def _remember_retry_after(self, org_id: str, seconds: float) -> None:
        # IMS throttles per client, so every org of this client waits. A wait
        # under a second is left to the minter's own retry.
        if seconds < 1:
            return
        logger.warning(
            "IMS asked to wait %.0f s (Retry-After) after a token request for org %s; no token "
            "request is sent for this client until then",
            seconds,
            org_id,
        )
        self._cache.try_set(
            self._retry_after_key, {"until": time.time() + seconds}, timeout=math.ceil(seconds)
        )

    def _retry_after_left(self) -> float | None:
        """Return the seconds IMS still asked to wait, or ``None`` when requests may go out."""
        marker = self._cache.try_get(self._retry_after_key)
        until = marker.get("until") if isinstance(marker, dict) else None
        if not isinstance(until, (int, float)):
            return None
        left = float(until) - time.time()
        return left if left > 0 else None


def _retry_after_error(org_id: str, seconds: float) -> IMSUnavailable:
    logger.info(
        "Not requesting a token for org %s: IMS asked to wait %.0f s more (Retry-After)",
        org_id,
        seconds,
    )
    return IMSUnavailable(
        f"Adobe IMS asked to wait {math.ceil(seconds)} s before the next token request; "
        "try again later.",
        org_id=org_id,
    )


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
