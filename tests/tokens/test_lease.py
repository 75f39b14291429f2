"""The cross-process mint lease: read again after winning it, and finish before it expires."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask

from flask_adobe_admin_auth import AdobeAdminAuthError
from flask_adobe_admin_auth.testing import LocalIMS

from .conftest import ORGS
from .helpers import runtime_of
from .sharing import ExactExpiryCache, two_workers

ORG = ORGS[0]
AppBuilder = Callable[..., Flask]


class LeaseRaceCache(ExactExpiryCache):
    """A SimpleCache that runs ``before_lease`` once, just before the next lease is taken.

    It puts another worker's whole mint between this worker's cache miss and
    its lease, the window that a descheduled thread opens in production.
    """

    def __init__(self) -> None:
        super().__init__(threshold=10_000)
        self.before_lease: Callable[[], None] | None = None

    def add(self, key: str, value: Any, timeout: int | dt.timedelta | None = None) -> bool:
        hook, self.before_lease = self.before_lease, None
        if hook is not None and "lease:" in key:
            hook()
        return bool(super().add(key, value, timeout=timeout))


def test_lease_winner_reads_token_again(make_app: AppBuilder, local_ims: LocalIMS) -> None:
    cache = LeaseRaceCache()
    first, second = two_workers(make_app, local_ims, cache=cache)
    minted_by_second: list[str] = []

    def second_worker_mints() -> None:
        with second.app_context():
            minted_by_second.append(runtime_of(second).get_token(ORG).access_token)

    cache.before_lease = second_worker_mints
    with first.app_context():
        token = runtime_of(first).get_token(ORG)

    assert minted_by_second == [token.access_token]
    assert local_ims.token_requests(ORG) == 1


def test_slow_mint_ends_before_lease(make_app: AppBuilder, local_ims: LocalIMS) -> None:
    first, second = two_workers(
        make_app,
        local_ims,
        ADOBE_ADMIN_AUTH_MINT_LEASE_TIMEOUT=1,
        ADOBE_ADMIN_AUTH_MINT_WAIT_TIMEOUT=2,
        ADOBE_ADMIN_AUTH_HTTP_TIMEOUT=3.0,
    )
    # IMS responds after 2.5 s: longer than the lease, shorter than HTTP_TIMEOUT.
    local_ims.fail_next(status=None, delay=2.5)
    outcomes: list[tuple[str, float]] = []
    lock = threading.Lock()

    def call(app: Flask) -> None:
        started = time.monotonic()
        with app.app_context():
            try:
                runtime_of(app).get_token(ORG)
                outcome = "token"
            except AdobeAdminAuthError as error:
                outcome = type(error).__name__
        with lock:
            outcomes.append((outcome, time.monotonic() - started))

    threads = [threading.Thread(target=call, args=(first,))]
    threads += [threading.Thread(target=call, args=(second,)) for _ in range(3)]
    threads[0].start()
    time.sleep(0.1)
    for thread in threads[1:]:
        thread.start()
    for thread in threads:
        thread.join()

    assert local_ims.token_requests(ORG) == 1
    assert [outcome for outcome, _ in outcomes] == ["IMSUnavailable"] * 4
    assert max(duration for _, duration in outcomes) < 2 + 0.5
