"""The hot path: a protected view with a cached consent and token touches no database,
no shared cache and no network, and revocations reach it in time."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from cachelib import SimpleCache
from cachelib.redis import RedisCache
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from flask_adobe_admin_auth import AdobeAdminAuth
from flask_adobe_admin_auth.cache import JSONRedisSerializer
from flask_adobe_admin_auth.testing import LocalIMS

from ..conftest import CACHE_URL
from .conftest import ORGS
from .helpers import runtime_of, seed_consent

AppBuilder = Callable[..., Flask]


class CountingSimpleCache(SimpleCache):
    """An in-process cache that counts reads."""

    reads = 0

    def get(self, key: str) -> Any:
        self.reads += 1
        return super().get(key)


class CountingRedisCache(RedisCache):
    """A Redis cache that counts reads (each one a network round trip)."""

    reads = 0

    def get(self, key: str) -> Any:
        self.reads += 1
        return super().get(key)


def counting_cache() -> CountingSimpleCache | CountingRedisCache:
    if CACHE_URL is None:
        return CountingSimpleCache(threshold=10_000)
    import redis

    cache = CountingRedisCache(host=redis.Redis.from_url(CACHE_URL))
    cache.serializer = JSONRedisSerializer()
    return cache


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, *args: Any) -> None:
        self.statements.append(str(args[2]))


@pytest.fixture
def queries() -> QueryCounter:
    return QueryCounter()


def count_queries(app: Flask, counter: QueryCounter) -> None:
    db = app.extensions["sqlalchemy"]
    assert isinstance(db, SQLAlchemy)
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", counter)


@pytest.fixture
def counted_app(
    make_app: AppBuilder, local_ims: LocalIMS, queries: QueryCounter
) -> tuple[Flask, CountingSimpleCache | CountingRedisCache]:
    cache = counting_cache()
    app = make_app(ADOBE_ADMIN_AUTH_CACHE=cache)
    seed_consent(app, local_ims, "account-0", ORGS[0])
    count_queries(app, queries)
    return app, cache


def test_cached_request_costs_no_query(
    counted_app: tuple[Flask, CountingSimpleCache], local_ims: LocalIMS, queries: QueryCounter
) -> None:
    app, cache = counted_app
    client = app.test_client()
    client.get("/login/account-0")
    assert client.get("/reports").status_code == 200
    queries.statements.clear()
    cache.reads = 0

    statuses = [client.get("/reports").status_code for _ in range(25)]

    assert statuses == [200] * 25
    assert queries.statements == []
    assert cache.reads == 0
    assert local_ims.token_requests(ORGS[0]) == 1


def test_cold_request_queries_twice(
    counted_app: tuple[Flask, CountingSimpleCache], queries: QueryCounter
) -> None:
    app, _ = counted_app
    client = app.test_client()
    client.get("/login/account-0")

    assert client.get("/reports").status_code == 200

    # The account's consents, then the org's active consent before the mint.
    assert len(queries.statements) == 2
    assert "WHERE adobe_consents.account_id =" in queries.statements[0]
    assert "WHERE adobe_consents.org_id =" in queries.statements[1]


def test_snapshot_expires_after_ttl(
    counted_app: tuple[Flask, CountingSimpleCache], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, cache = counted_app
    shared_runtime = runtime_of(app)
    shorter = dataclasses.replace(shared_runtime.settings, consent_local_timeout=0.05)
    monkeypatch.setattr(shared_runtime, "settings", shorter)
    client = app.test_client()
    client.get("/login/account-0")
    client.get("/reports")
    cache.reads = 0

    time.sleep(0.1)
    client.get("/reports")

    assert cache.reads == 1


def test_local_revoke_seen_at_once(counted_app: tuple[Flask, CountingSimpleCache]) -> None:
    app, _ = counted_app
    adobe = app.extensions["test_adobe"]
    assert isinstance(adobe, AdobeAdminAuth)
    client = app.test_client()
    client.get("/login/account-0")
    assert client.get("/reports").status_code == 200

    with app.app_context():
        consent = adobe.active_consent("account-0")
        assert consent is not None
        adobe.revoke_consent(consent)

    assert client.get("/reports").status_code == 302


needs_shared_storage = pytest.mark.shared_storage


@needs_shared_storage
def test_grant_elsewhere_seen_at_once(make_app: AppBuilder, local_ims: LocalIMS) -> None:
    worker_a = make_app()
    worker_b = make_app()
    client = worker_a.test_client()
    client.get("/login/account-0")
    assert client.get("/reports").status_code == 302

    seed_consent(worker_b, local_ims, "account-0", ORGS[0])
    with worker_b.app_context():
        runtime_of(worker_b).forget_consents("account-0")

    assert client.get("/reports").status_code == 200


@needs_shared_storage
def test_revoke_elsewhere_seen_within_ttl(
    make_app: AppBuilder, local_ims: LocalIMS, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker_a = make_app(ADOBE_ADMIN_AUTH_CONSENT_LOCAL_TIMEOUT=0.2)
    worker_b = make_app(ADOBE_ADMIN_AUTH_CONSENT_LOCAL_TIMEOUT=0.2)
    consent = seed_consent(worker_b, local_ims, "account-0", ORGS[0])
    client = worker_a.test_client()
    client.get("/login/account-0")
    assert client.get("/reports").status_code == 200

    with worker_b.app_context():
        runtime_of(worker_b).revoke(consent, reason="disconnected", event_kind="disconnected")
    time.sleep(0.3)

    assert client.get("/reports").status_code == 302
