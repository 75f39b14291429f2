"""Pending consent requests: ``state`` and ``nonce``, bound to a browser and an account.

A request lives in the shared cache under a hash of its ``state`` until the
callback consumes it (once, atomically) or it expires. The browser is
identified by a random id in a signed cookie that stays the same size however
many flows a browser starts, so several tabs can each finish their own flow.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .cache import SharedCache

logger = logging.getLogger(__name__)

# 32 random bytes: 256 bits, well above the 128 bits an attacker must guess.
_TOKEN_BYTES = 32


@dataclass(frozen=True)
class PendingConsent:
    """The state an app keeps while a browser is on Adobe's consent screen."""

    nonce: str
    account_id: str
    browser_digest: str
    next_url: str | None
    issued_at: float


def new_browser_id() -> str:
    """Return a random browser id with 256 bits of entropy."""
    return secrets.token_urlsafe(_TOKEN_BYTES)


def digest(value: str) -> str:
    """Hash a secret value so it can serve as a cache key or be stored at rest."""
    return hashlib.sha256(value.encode()).hexdigest()


def values_equal(expected: str | None, received: str | None) -> bool:
    """Compare two secrets in constant time; a missing or empty value never matches."""
    if not expected or not received:
        return False
    return hmac.compare_digest(expected.encode(), received.encode())


class ConsentRequests:
    """Issues and consumes pending consent requests in the shared cache.

    A request expires twice over: the cache drops it after ``max_age``
    seconds, and :meth:`consume` rejects one issued more than ``max_age``
    seconds ago by ``clock``, so a cache that keeps values longer cannot
    stretch the lifetime.

    :param clock: returns the current Unix time in seconds; tests replace the
        ``clock`` attribute to move time without sleeping.
    """

    def __init__(
        self, cache: SharedCache, max_age: int, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._cache = cache
        self._max_age = max_age
        self.clock = clock

    def issue(self, *, account_id: str, browser_id: str, next_url: str | None) -> tuple[str, str]:
        """Store a new pending request and return its ``(state, nonce)``."""
        state = secrets.token_urlsafe(_TOKEN_BYTES)
        nonce = secrets.token_urlsafe(_TOKEN_BYTES)
        record = {
            "nonce": nonce,
            "account_id": account_id,
            "browser": digest(browser_id),
            "next": next_url,
            "issued_at": self.clock(),
        }
        self._cache.set(self._key(state), record, timeout=self._max_age)
        return state, nonce

    def consume(self, state: str) -> PendingConsent | None:
        """Remove and return the request for ``state``; ``None`` if unknown, used or expired."""
        record = self._cache.pop(self._key(state))
        pending = _parse(record)
        if pending is None:
            return None
        if self.clock() - pending.issued_at > self._max_age:
            logger.info("Ignoring an expired pending consent request")
            return None
        return pending

    @staticmethod
    def _key(state: str) -> str:
        return "state:" + digest(state)


def _parse(record: Any) -> PendingConsent | None:
    if not isinstance(record, dict):
        return None
    next_url = record.get("next")
    if next_url is not None and not isinstance(next_url, str):
        logger.warning("Ignoring a malformed pending consent record in the cache")
        return None
    try:
        return PendingConsent(
            nonce=str(record["nonce"]),
            account_id=str(record["account_id"]),
            browser_digest=str(record["browser"]),
            next_url=next_url,
            issued_at=float(record["issued_at"]),
        )
    except (KeyError, TypeError, ValueError):
        logger.warning("Ignoring a malformed pending consent record in the cache")
        return None
