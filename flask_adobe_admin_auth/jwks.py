"""Adobe's JSON Web Key Set: fetched rarely, cached, refetched on key rotation.

The raw key set lives in the shared cache for ``JWKS_CACHE_TIMEOUT`` and each
process keeps the parsed keys next to it. A ``kid`` missing from the cached
set triggers one refetch per ``JWKS_REFETCH_COOLDOWN`` across all processes,
so a flood of tokens with made-up ``kid`` values cannot hammer IMS. The cold
fetch starts no cooldown, so the first unknown ``kid`` after it may refetch
once. A failed fetch, a redirect included, never replaces keys that were good.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import requests
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

from .cache import SharedCache

logger = logging.getLogger(__name__)

_CACHE_KEY = "jwks"
_COOLDOWN_KEY = "jwks:cooldown"
_LEASE_KEY = "jwks:lease"

# Seconds between two cache reads while another worker fetches the key set.
_LEASE_POLL = 0.05


class JWKSUnavailable(Exception):
    """The key set could not be fetched and no cached copy exists."""


class JWKSClient:
    """Looks up RS256 public keys by ``kid``."""

    def __init__(
        self,
        *,
        url: str,
        cache: SharedCache,
        cache_timeout: int,
        refetch_cooldown: int,
        http_timeout: float,
        session: requests.Session | None = None,
    ) -> None:
        self.url = url
        self._cache = cache
        self._cache_timeout = cache_timeout
        self._refetch_cooldown = refetch_cooldown
        self._http_timeout = http_timeout
        self._http = session or requests.Session()
        self._lock = threading.Lock()
        self._local: tuple[Any, dict[str, RSAKey]] | None = None

    def get_key(self, kid: str) -> RSAKey | None:
        """Return the key with this ``kid``, refetching the set at most once per cooldown.

        :raises JWKSUnavailable: when no key set is cached and IMS cannot be reached.
        """
        keys = self._cached_keys()
        if keys is None:
            with self._lock:
                keys = self._cached_keys()
                if keys is None:
                    keys = self._fetch_once_across_processes()
        key = keys.get(kid)
        if key is not None:
            return key

        # Unknown kid: Adobe may have rotated its keys. One process may refetch
        # per cooldown; the others keep the set they have.
        if not self._cache.add(_COOLDOWN_KEY, 1, timeout=max(self._refetch_cooldown, 1)):
            logger.info("Unknown kid %r; JWKS refetch skipped during cooldown", kid)
            return None
        with self._lock:
            logger.info("Unknown kid %r; refetching JWKS from %s", kid, self.url)
            try:
                keys = self._fetch_and_store()
            except JWKSUnavailable:
                return None
        return keys.get(kid)

    def _fetch_once_across_processes(self) -> dict[str, RSAKey]:
        # With a cold cache, one process fetches under a lease while the
        # others poll the cache. A waiter whose wait outlasts one HTTP timeout
        # fetches by itself, so a crashed lease holder delays it only once.
        deadline = time.monotonic() + self._http_timeout
        while True:
            if self._cache.add(_LEASE_KEY, 1, timeout=self._http_timeout + 1):
                try:
                    keys = self._fetch_and_store()
                finally:
                    self._cache.delete(_LEASE_KEY)
                # No refetch cooldown starts here: a kid that Adobe rotated in
                # right after this fetch may still trigger one refetch.
                return keys

            time.sleep(_LEASE_POLL)
            fetched_elsewhere = self._cached_keys()
            if fetched_elsewhere is not None:
                return fetched_elsewhere
            if time.monotonic() >= deadline:
                logger.info(
                    "Waited %.1f s for another worker's JWKS fetch; fetching", self._http_timeout
                )
                return self._fetch_and_store()

    def _cached_keys(self) -> dict[str, RSAKey] | None:
        raw = self._cache.get(_CACHE_KEY)
        if raw is None:
            return None
        local = self._local
        if local is not None and local[0] == raw:
            return local[1]
        keys = parse_key_set(raw)
        if keys is None:
            return None
        self._local = (raw, keys)
        return keys

    def _fetch_and_store(self) -> dict[str, RSAKey]:
        try:
            # A redirect is a failed fetch: the key set must come from the configured URL.
            response = self._http.get(self.url, timeout=self._http_timeout, allow_redirects=False)
        except requests.RequestException as error:
            logger.warning("JWKS fetch from %s failed: %s", self.url, type(error).__name__)
            return self._keep_old_keys()
        if response.status_code != 200:
            logger.warning(
                "JWKS fetch from %s failed with HTTP %s (x-debug-id %s)",
                self.url,
                response.status_code,
                response.headers.get("x-debug-id"),
            )
            return self._keep_old_keys()
        try:
            raw = response.json()
        except ValueError:
            logger.warning("JWKS from %s is not JSON", self.url)
            return self._keep_old_keys()

        keys = parse_key_set(raw)
        if keys is None:
            logger.warning("JWKS from %s contains no usable RS256 key", self.url)
            return self._keep_old_keys()

        self._cache.set(_CACHE_KEY, raw, timeout=self._cache_timeout)
        self._local = (raw, keys)
        logger.info("Fetched JWKS from %s with kids %s", self.url, sorted(keys))
        return keys

    def _keep_old_keys(self) -> dict[str, RSAKey]:
        keys = self._cached_keys()
        if keys is None and self._local is not None:
            keys = self._local[1]
        if keys is None:
            raise JWKSUnavailable(f"JWKS at {self.url} could not be fetched")
        return keys


def parse_key_set(raw: Any) -> dict[str, RSAKey] | None:
    """Return the RSA signing keys of a JWKS by ``kid``, or ``None`` when none is usable."""
    if not isinstance(raw, dict) or not isinstance(raw.get("keys"), list):
        return None
    keys: dict[str, RSAKey] = {}
    for entry in raw["keys"]:
        if not isinstance(entry, dict) or entry.get("kty") != "RSA":
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str) or not kid or entry.get("use", "sig") != "sig":
            continue
        if entry.get("alg", "RS256") != "RS256":
            continue
        try:
            key = KeySet.import_key_set({"keys": [entry]}).keys[0]
        except (JoseError, ValueError, TypeError):
            logger.warning("Skipping JWKS key %r that does not parse", kid)
            continue
        if isinstance(key, RSAKey):
            keys[kid] = key
    return keys or None
