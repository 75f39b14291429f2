"""Two apps, as two workers, on one cache: Redis in the shared-storage run, else one SimpleCache."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from cachelib import SimpleCache
from flask import Flask

from ..conftest import CACHE_URL
from .conftest import ORGS
from .helpers import seed_consent

AppBuilder = Callable[..., Flask]


class ExactExpiryCache(SimpleCache):
    """A SimpleCache whose entries expire after exactly their timeout, as on Redis.

    SimpleCache adds the timeout to ``int(time())``, so a one-second lease may
    expire at once; the lease tests need Redis's exact ``EX`` semantics.
    """

    def _normalize_timeout(self, timeout: int | dt.timedelta | None) -> int:
        seconds = super()._normalize_timeout(timeout)
        if seconds <= 0:
            return seconds
        # SimpleCache compares the expiry with time(), so a float works at run time.
        return time.time() - int(time.time()) + seconds  # type: ignore[return-value]


def two_workers(
    make_app: AppBuilder, local_ims: Any, cache: Any = None, **config: Any
) -> tuple[Flask, Flask]:
    """Build two apps on one database and one cache, with consents to every org in ``ORGS``.

    :param cache: the cachelib cache to share; default Redis when the suite
        runs on shared storage, else one ``SimpleCache``.
    """
    shared = cache if cache is not None else (CACHE_URL or ExactExpiryCache(threshold=10_000))
    first = make_app(ADOBE_ADMIN_AUTH_CACHE=shared, **config)
    # make_app recreates the tables, so the consents are seeded after both exist.
    second = make_app(ADOBE_ADMIN_AUTH_CACHE=shared, **config)
    for number, org_id in enumerate(ORGS):
        seed_consent(first, local_ims, f"account-{number}", org_id)
    return first, second
