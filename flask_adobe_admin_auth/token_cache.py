"""Cached access tokens: an encrypted entry in the shared cache and a copy per process.

The shared entry lives until the token expires, so that a failed refresh can
fall back to it; readers treat it as stale after ``refresh_at``. Each process
keeps a copy for at most ``CONSENT_LOCAL_TIMEOUT`` seconds, so that a token
dropped in another process (``invalidate_token``, a revoked consent) stops
being served here within that time.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, replace

from .cache import SharedCache
from .crypto import TokenCipher
from .settings import Settings
from .tokens import AccessToken

logger = logging.getLogger(__name__)

#: A token with less time left than this, in seconds, is not handed out.
MIN_USABLE_LIFETIME = 1.0

#: Maximum delay before retrying a refresh that failed while the old token was still valid.
REFRESH_RETRY_DELAY = 30.0


@dataclass(frozen=True)
class CachedToken:
    """A token with the time to refresh it, as UNIX timestamps.

    ``local_until`` is when this process must read the shared cache again
    instead of its own copy.
    """

    token: AccessToken
    refresh_at: float
    stored_at: float
    local_until: float = 0.0

    @property
    def is_fresh(self) -> bool:
        return time.time() < self.refresh_at

    @property
    def is_fresh_locally(self) -> bool:
        return time.time() < min(self.refresh_at, self.local_until)

    @property
    def is_usable(self) -> bool:
        return self.token.expires_in > MIN_USABLE_LIFETIME


class TokenCache:
    """Reads and writes the cached tokens of one app, keyed by client id, org and scopes."""

    def __init__(self, settings: Settings, *, cache: SharedCache, cipher: TokenCipher) -> None:
        self.settings = settings
        self._cache = cache
        self._cipher = cipher
        self._keys: dict[str, str] = {}
        self._local: dict[str, CachedToken] = {}
        self._warned_short_lifetime = False

    def key(self, org_id: str) -> str:
        """Return the cache key of ``org_id``'s token: a digest of client id, org and scopes."""
        key = self._keys.get(org_id)
        if key is None:
            material = "\n".join((self.settings.client_id, org_id, self.settings.scope_param))
            key = hashlib.sha256(material.encode()).hexdigest()
            self._keys[org_id] = key
        return key

    def local(self, key: str) -> CachedToken | None:
        """Return this process's copy while it may still be used without a cache read."""
        entry = self._local.get(key)
        if entry is not None and entry.is_fresh_locally:
            return entry
        return None

    def remember(self, key: str, entry: CachedToken) -> None:
        """Keep ``entry`` in this process until the refresh or ``CONSENT_LOCAL_TIMEOUT``."""
        local_until = min(entry.refresh_at, time.time() + self.settings.consent_local_timeout)
        self._local[key] = replace(entry, local_until=local_until)

    def forget_local(self, key: str) -> None:
        self._local.pop(key, None)

    def drop(self, key: str) -> None:
        """Drop the token here and in the shared cache."""
        self._local.pop(key, None)
        self._cache.try_delete("token:" + key)

    def read(self, key: str, org_id: str) -> CachedToken | None:
        """Read the shared entry of ``org_id``; ``None`` for a miss or an entry that fails a check.

        The entry must decrypt, and its token must belong to ``org_id`` and
        carry the configured scopes. Anyone who can write to the shared cache
        but lacks the encryption key cannot forge a token. It could still copy
        another org's entry under this key, which the org and scope checks catch.
        """
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
        if token.org_id != org_id or token.scopes != self.settings.scopes:
            logger.warning(
                "Ignoring the cached token under the key of org %s: it belongs to org %s with "
                "scopes %s, not scopes %s; someone with write access to the cache moved it",
                org_id,
                token.org_id,
                " ".join(token.scopes),
                self.settings.scope_param,
            )
            return None
        return CachedToken(token=token, refresh_at=float(refresh_at), stored_at=float(stored_at))

    def store(self, key: str, token: AccessToken) -> None:
        """Cache a freshly minted token here and in the shared cache."""
        entry = CachedToken(
            token=token,
            refresh_at=token.expires_at.timestamp() - self.settings.token_refresh_margin,
            stored_at=time.time(),
        )

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
            self.remember(key, entry)

        # A token with less than a second left is not stored at all, and the
        # caller still gets it.
        if not self._write(key, entry):
            logger.info("Token for org %s expires within a second; not caching it", token.org_id)

    def postpone_refresh(self, key: str, stale: CachedToken) -> None:
        """Serve ``stale`` for a while more, in every process, after a failed refresh."""
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
        entry = CachedToken(stale.token, refresh_at=time.time() + delay, stored_at=time.time())
        self._write(key, entry)
        self.remember(key, entry)

    def _write(self, key: str, entry: CachedToken) -> bool:
        payload = {
            "token": self._cipher.encrypt(entry.token.to_json()),
            "refresh_at": entry.refresh_at,
            "stored_at": entry.stored_at,
        }
        return self._cache.try_set("token:" + key, payload, timeout=entry.token.expires_in)
