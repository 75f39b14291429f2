"""Shared cache entries that a writer to the cache moved or mangled, and absurd lifetimes."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from cachelib import SimpleCache
from flask import Flask

from flask_adobe_admin_auth.cache import JSONRedisSerializer
from flask_adobe_admin_auth.testing import LocalIMS

from ..conftest import CACHE_URL
from .conftest import ORGS
from .helpers import runtime_of, seed_consent
from .test_token_cache import token_cache_key

AppBuilder = Callable[..., Flask]
ORG_A, ORG_B = ORGS[0], ORGS[1]
DEEP_JSON = b"[" * 100_000 + b"]" * 100_000


def test_other_orgs_entry_is_miss(
    seeded_app: AppBuilder, local_ims: LocalIMS, caplog: pytest.LogCaptureFixture
) -> None:
    app = seeded_app()
    cache = runtime_of(app).cache
    with app.app_context():
        token_b = runtime_of(app).get_token(ORG_B)
    cache.set(token_cache_key(app, ORG_A), cache.get(token_cache_key(app, ORG_B)), timeout=600)

    with app.app_context(), caplog.at_level(logging.WARNING):
        token_a = runtime_of(app).get_token(ORG_A)

    assert token_a.org_id == ORG_A
    assert token_a.access_token != token_b.access_token
    assert local_ims.token_requests(ORG_A) == 1
    assert f"belongs to org {ORG_B}" in caplog.text


def test_other_scopes_entry_is_miss(make_app: AppBuilder, local_ims: LocalIMS) -> None:
    shared = CACHE_URL or SimpleCache(threshold=10_000)
    full = make_app(ADOBE_ADMIN_AUTH_CACHE=shared)
    narrow = make_app(ADOBE_ADMIN_AUTH_CACHE=shared, ADOBE_ADMIN_AUTH_SCOPES=local_ims.scopes[:1])
    seed_consent(full, local_ims, "account-0", ORG_A)
    cache = runtime_of(full).cache
    with narrow.app_context():
        runtime_of(narrow).get_token(ORG_A)
    cache.set(token_cache_key(full, ORG_A), cache.get(token_cache_key(narrow, ORG_A)), timeout=600)

    with full.app_context():
        token = runtime_of(full).get_token(ORG_A)

    assert token.scopes == tuple(local_ims.scopes)
    assert local_ims.token_requests(ORG_A) == 2


def test_huge_integer_expires_in_capped(seeded_app: AppBuilder, local_ims: LocalIMS) -> None:
    body = b'{"access_token": "at", "token_type": "bearer", "expires_in": 1' + b"0" * 400 + b"}"
    local_ims.fail_next(status=200, body=body, headers={"Content-Type": "application/json"})
    app = seeded_app(ADOBE_ADMIN_AUTH_TOKEN_MAX_LIFETIME=3600)
    client = app.test_client()
    client.get("/login/account-0")

    response = client.get("/reports")

    assert response.status_code == 200
    assert 3590 < response.json["expires_in"] <= 3600  # type: ignore[index]


def test_serializer_ignores_deep_json() -> None:
    assert JSONRedisSerializer().loads(DEEP_JSON) is None


@pytest.mark.shared_storage
def test_deep_json_in_redis_is_miss(seeded_app: AppBuilder, local_ims: LocalIMS) -> None:
    import redis

    app = seeded_app()
    runtime = runtime_of(app)
    name = runtime.cache.backend._get_prefix() + runtime.cache.prefix  # type: ignore[attr-defined]
    client = redis.Redis.from_url(str(CACHE_URL))
    client.set(name + token_cache_key(app, ORG_A), DEEP_JSON, ex=60)
    client.close()

    with app.app_context():
        token = runtime.get_token(ORG_A)

    assert token.org_id == ORG_A
    assert local_ims.token_requests(ORG_A) == 1
