"""The shared cache: a cachelib backend with the atomic operations the extension needs.

Single-use state, mint leases and id_token replay markers must hold across
processes, so every write here is atomic on Redis (``SET NX EX``, ``GETDEL``)
and on ``SimpleCache`` (its internal lock). Other cachelib backends work
through their ``add`` and ``delete``, which must report truthfully whether
they wrote or removed the key.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from cachelib import BaseCache, SimpleCache
from cachelib.redis import RedisCache
from cachelib.serializers import RedisSerializer

from .config_reader import MAX_SECONDS
from .errors import ConfigurationError

logger = logging.getLogger(__name__)

# A value never stays longer than this, whatever timeout a caller requests. It equals
# the longest duration a setting accepts, so no configured lifetime is shortened.
MAX_TIMEOUT = MAX_SECONDS

# Seconds between two warnings about an unreachable cache backend.
_WARNING_INTERVAL = 10.0


def _backend_errors() -> tuple[type[Exception], ...]:
    try:
        import redis
    except ImportError:
        return (OSError,)
    return (OSError, redis.RedisError)


#: Errors a cache backend raises when its server cannot be reached.
CACHE_ERRORS = _backend_errors()


class JSONRedisSerializer(RedisSerializer):
    """A serializer that stores values as JSON, so that a Redis writer cannot plant a pickle."""

    def dumps(self, value: Any, protocol: int = 0) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode()

    def loads(self, bvalue: bytes | None) -> Any:
        if bvalue is None:
            return None
        try:
            return json.loads(bvalue)
        except (ValueError, RecursionError):
            # RecursionError: JSON nested deeper than the parser's recursion limit.
            logger.warning("Ignoring a cache value that is not JSON or nests too deeply")
            return None


def cache_from_config(value: object) -> BaseCache:
    """Build the cache from ``ADOBE_ADMIN_AUTH_CACHE``: ``None``, a URL or a cachelib cache.

    :raises ConfigurationError: for an unsupported URL or type.
    """
    if value is None:
        return SimpleCache(threshold=10_000)
    if isinstance(value, BaseCache):
        return value
    if not isinstance(value, str):
        raise ConfigurationError(
            "ADOBE_ADMIN_AUTH_CACHE must be a cachelib cache or a URL such as "
            f"'redis://127.0.0.1:6379/0', got {type(value).__name__}.",
            code="invalid_setting",
        )

    scheme = urlsplit(value).scheme
    if scheme == "simple":
        return SimpleCache(threshold=10_000)
    if scheme in ("redis", "rediss", "unix"):
        try:
            import redis
        except ImportError:
            raise ConfigurationError(
                "ADOBE_ADMIN_AUTH_CACHE is a Redis URL but the redis package is missing: "
                "pip install 'flask-adobe-admin-auth[redis]'.",
                code="invalid_setting",
            ) from None
        cache = RedisCache(host=redis.Redis.from_url(value))
        cache.serializer = JSONRedisSerializer()
        return cache
    raise ConfigurationError(
        f"ADOBE_ADMIN_AUTH_CACHE has an unsupported URL scheme {scheme!r}: use 'redis://', "
        "'rediss://', 'simple://' or pass a cachelib cache.",
        code="invalid_setting",
    )


class SharedCache:
    """A cachelib cache with a key prefix, bounded timeouts and atomic primitives.

    Values must be JSON-compatible: dicts, lists, strings and numbers.
    """

    def __init__(self, backend: BaseCache, prefix: str) -> None:
        self.backend = backend
        self.prefix = prefix
        self._redis: Any = backend._write_client if isinstance(backend, RedisCache) else None
        self._serializer: Any = getattr(backend, "serializer", None)
        self._warning_lock = threading.Lock()
        self._last_warning = 0.0
        self._skipped_warnings = 0

    @property
    def is_shared(self) -> bool:
        """Whether other processes see the same values (any backend but ``SimpleCache``)."""
        return not isinstance(self.backend, SimpleCache)

    def get(self, key: str) -> Any:
        return self.backend.get(self.prefix + key)

    def set(self, key: str, value: Any, timeout: float) -> bool:
        """Store ``value`` for ``timeout`` seconds; a timeout below one second stores nothing.

        cachelib reads a timeout of 0 as "forever", so rounding a short
        lifetime down must never reach it.
        """
        seconds = _whole_seconds(timeout)
        if seconds is None:
            self.backend.delete(self.prefix + key)
            return False
        if self._redis is not None:
            # cachelib 0.14 stores with SETEX, which redis-py 8 deprecates
            # with a warning; SET with EX does the same.
            name = self.backend._get_prefix() + self.prefix + key  # type: ignore[attr-defined]
            return bool(self._redis.set(name, self._serializer.dumps(value), ex=seconds))
        return bool(self.backend.set(self.prefix + key, value, timeout=seconds))

    def add(self, key: str, value: Any, timeout: float) -> bool:
        """Store ``value`` only if ``key`` is absent; ``True`` for the one caller that stored it."""
        seconds = _whole_seconds(timeout) or 1
        if self._redis is not None:
            name = self.backend._get_prefix() + self.prefix + key  # type: ignore[attr-defined]
            dumped = self._serializer.dumps(value)
            return bool(self._redis.set(name, dumped, nx=True, ex=seconds))
        return bool(self.backend.add(self.prefix + key, value, timeout=seconds))

    def delete(self, key: str) -> bool:
        """Remove ``key``; ``True`` only for the caller that removed it."""
        return bool(self.backend.delete(self.prefix + key))

    # Best-effort variants for values that can be rebuilt (tokens, consent
    # lists): an unreachable backend reads as a miss and drops writes, so
    # requests keep working from the database and IMS while Redis is down.

    def try_get(self, key: str) -> Any:
        """Like :meth:`get`, but ``None`` when the backend cannot be reached."""
        try:
            return self.get(key)
        except CACHE_ERRORS as error:
            self._warn_unreachable("read", key, error)
            return None

    def try_set(self, key: str, value: Any, timeout: float) -> bool:
        """Like :meth:`set`, but ``False`` when the backend cannot be reached."""
        try:
            return self.set(key, value, timeout)
        except CACHE_ERRORS as error:
            self._warn_unreachable("write", key, error)
            return False

    def try_delete(self, key: str) -> bool:
        """Like :meth:`delete`, but ``False`` when the backend cannot be reached."""
        try:
            return self.delete(key)
        except CACHE_ERRORS as error:
            self._warn_unreachable("delete", key, error)
            return False

    def _warn_unreachable(self, operation: str, key: str, error: Exception) -> None:
        # One warning per interval, with the count of the ones left out, so
        # that an outage does not flood the log with one line per request.
        with self._warning_lock:
            now = time.monotonic()
            if now - self._last_warning < _WARNING_INTERVAL:
                self._skipped_warnings += 1
                return
            skipped, self._skipped_warnings = self._skipped_warnings, 0
            self._last_warning = now
        logger.warning(
            "Cache backend unreachable on %s of %r: %s (%d similar warnings left out)",
            operation,
            key.split(":", 1)[0],
            type(error).__name__,
            skipped,
        )

    def pop(self, key: str) -> Any:
        """Read and remove ``key`` in one step; of concurrent callers, one gets the value."""
        if self._redis is not None:
            name = self.backend._get_prefix() + self.prefix + key  # type: ignore[attr-defined]
            return self._serializer.loads(self._redis.getdel(name))

        value = self.get(key)
        if value is None or not self.delete(key):
            return None
        return value


def _whole_seconds(timeout: float) -> int | None:
    if not math.isfinite(timeout) or timeout < 1:
        return None
    return min(int(timeout), MAX_TIMEOUT)
