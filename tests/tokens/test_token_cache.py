"""The token cache: lifetimes from IMS, encryption, refresh ahead of expiry."""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from cachelib.redis import RedisCache
from flask import Flask

from flask_adobe_admin_auth import IMSUnavailable
from flask_adobe_admin_auth.cache import MAX_TIMEOUT, SharedCache
from flask_adobe_admin_auth.testing import LocalIMS

from .conftest import ORGS
from .helpers import runtime_of

ORG = ORGS[0]
AppBuilder = Callable[..., Flask]


def token_cache_key(app: Flask, org_id: str) -> str:
    settings = runtime_of(app).settings
    material = "\n".join((settings.client_id, org_id, settings.scope_param))
    return "token:" + hashlib.sha256(material.encode()).hexdigest()


def test_token_minted_once_then_cached(seeded_app: AppBuilder, local_ims: LocalIMS) -> None:
    app = seeded_app()
    with app.app_context():
        first = runtime_of(app).get_token(ORG)
        second = runtime_of(app).get_token(ORG)

    assert first.access_token == second.access_token
    assert first.org_id == ORG
    assert local_ims.token_requests(ORG) == 1


def test_cached_value_is_encrypted(seeded_app: AppBuilder) -> None:
    app = seeded_app()
    with app.app_context():
        token = runtime_of(app).get_token(ORG)
    stored = runtime_of(app).cache.get(token_cache_key(app, ORG))

    assert isinstance(stored, dict)
    assert token.access_token not in repr(stored)
    assert token.access_token not in repr(token)


def test_cache_key_names_client_org_and_scopes(seeded_app: AppBuilder) -> None:
    app = seeded_app(ADOBE_ADMIN_AUTH_SCOPES=["openid", "AdobeID"])
    with app.app_context():
        runtime_of(app).get_token(ORG)
    cache = runtime_of(app).cache

    assert cache.get(token_cache_key(app, ORG)) is not None
    assert cache.get(token_cache_key(app, ORGS[1])) is None


def test_expires_in_as_numeric_string(seeded_app: AppBuilder, local_ims: LocalIMS) -> None:
    local_ims.expires_in_as_string = True
    app = seeded_app()
    with app.app_context():
        token = runtime_of(app).get_token(ORG)

    assert 86000 < token.expires_in <= 86399


def test_huge_expires_in_capped(
    seeded_app: AppBuilder, local_ims: LocalIMS, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_ims, "token_lifetime", 10**9)
    app = seeded_app(ADOBE_ADMIN_AUTH_TOKEN_MAX_LIFETIME=3600)
    with app.app_context():
        token = runtime_of(app).get_token(ORG)

    assert 3500 < token.expires_in <= 3600


def test_infinite_expires_in_capped(seeded_app: AppBuilder, local_ims: LocalIMS) -> None:
    local_ims.fail_next(
        status=200, body={"access_token": "at", "token_type": "bearer", "expires_in": "1e400"}
    )
    app = seeded_app(ADOBE_ADMIN_AUTH_TOKEN_MAX_LIFETIME=3600)
    with app.app_context():
        token = runtime_of(app).get_token(ORG)

    assert token.expires_in <= 3600


@pytest.mark.parametrize(
    "body",
    [
        b'{"access_token": "at", "token_type": "bearer", "expires_in": 0}',
        b'{"access_token": "at", "token_type": "bearer", "expires_in": -60}',
        b'{"access_token": "at", "token_type": "bearer", "expires_in": NaN}',
        b'{"access_token": "at", "token_type": "bearer", "expires_in": "soon"}',
        b'{"access_token": "at", "token_type": "bearer", "expires_in": true}',
        b'{"access_token": "at", "token_type": "bearer", "expires_in": 0.5}',
        b'{"access_token": "at", "token_type": "bearer"}',
        b'{"access_token": "", "token_type": "bearer", "expires_in": 3600}',
        b'{"access_token": "a t", "token_type": "bearer", "expires_in": 3600}',
        b'{"access_token": "a\\nt", "token_type": "bearer", "expires_in": 3600}',
        b'{"access_token": "\xc3\xa9t\xc3\xa9", "token_type": "bearer", "expires_in": 3600}',
        b'{"access_token": 42, "token_type": "bearer", "expires_in": 3600}',
        b'{"access_token": "' + b"a" * (16 * 1024 + 1) + b'", "expires_in": 3600}',
        b'{"access_token": "at", "expires_in": 3600, "error": "invalid_org"}',
        b"<html>gateway page</html>",
        b"[" * 100_000 + b"]" * 100_000,
        b"null",
    ],
)
def test_invalid_token_response_retried(
    seeded_app: AppBuilder,
    local_ims: LocalIMS,
    body: bytes,
    revocations: list[dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = seeded_app()
    attempts = runtime_of(app).settings.http_max_attempts
    local_ims.fail_next(
        attempts, status=200, body=body, headers={"Content-Type": "application/json"}
    )

    with app.app_context(), pytest.raises(IMSUnavailable):
        runtime_of(app).get_token(ORG)

    assert runtime_of(app).cache.get(token_cache_key(app, ORG)) is None
    assert local_ims.token_requests(ORG) == attempts
    assert revocations == []
    assert "ADOBE_ADMIN_AUTH_SCOPES" not in caplog.text


def test_invalid_token_response_then_success(seeded_app: AppBuilder, local_ims: LocalIMS) -> None:
    app = seeded_app()
    local_ims.fail_next(status=200, body=b"not json")

    with app.app_context():
        token = runtime_of(app).get_token(ORG)

    assert token.org_id == ORG
    assert local_ims.token_requests(ORG) == 2


def test_longest_access_token_accepted(seeded_app: AppBuilder, local_ims: LocalIMS) -> None:
    value = "a" * (16 * 1024)
    local_ims.fail_next(status=200, body={"access_token": value, "expires_in": 3600})
    app = seeded_app()

    with app.app_context():
        token = runtime_of(app).get_token(ORG)

    assert token.access_token == value


@pytest.mark.parametrize("timeout", [0, 0.5, 0.999, -1, -math.inf, math.nan])
def test_shared_cache_set_never_stores_forever(seeded_app: AppBuilder, timeout: float) -> None:
    cache: SharedCache = runtime_of(seeded_app()).cache
    cache.set("probe", {"v": 1}, timeout=60)

    assert cache.set("probe", {"v": 2}, timeout=timeout) is False
    assert cache.get("probe") is None


def test_shared_cache_caps_long_timeouts(seeded_app: AppBuilder) -> None:
    cache: SharedCache = runtime_of(seeded_app()).cache

    assert cache.set("probe", {"v": 1}, timeout=math.inf) is False
    assert cache.set("probe", {"v": 1}, timeout=10**12) is True
    assert cache.get("probe") == {"v": 1}
    if isinstance(cache.backend, RedisCache):
        name = cache.backend._get_prefix() + cache.prefix + "probe"
        ttl = cache.backend._write_client.ttl(name)
        assert 0 < ttl <= MAX_TIMEOUT


def test_short_lived_token_returned_uncached(
    seeded_app: AppBuilder, local_ims: LocalIMS, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_ims, "token_lifetime", 1)
    app = seeded_app()
    with app.app_context():
        first = runtime_of(app).get_token(ORG)
        second = runtime_of(app).get_token(ORG)

    assert first.org_id == ORG
    assert first.access_token != second.access_token
    assert runtime_of(app).cache.get(token_cache_key(app, ORG)) is None
    assert local_ims.token_requests(ORG) == 2


def test_token_refreshed_within_margin(
    seeded_app: AppBuilder, local_ims: LocalIMS, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With a margin longer than the lifetime, every token is due for refresh at once.
    monkeypatch.setattr(local_ims, "token_lifetime", 30)
    app = seeded_app(ADOBE_ADMIN_AUTH_TOKEN_REFRESH_MARGIN=300)
    with app.app_context():
        first = runtime_of(app).get_token(ORG)
        second = runtime_of(app).get_token(ORG)

    assert first.access_token != second.access_token
    assert local_ims.token_requests(ORG) == 2


def test_failed_refresh_serves_old_token(
    seeded_app: AppBuilder, local_ims: LocalIMS, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_ims, "token_lifetime", 30)
    app = seeded_app(ADOBE_ADMIN_AUTH_TOKEN_REFRESH_MARGIN=300)
    with app.app_context():
        first = runtime_of(app).get_token(ORG)
        local_ims.fail_next(3, status=503)
        during_outage = runtime_of(app).get_token(ORG)
        requests_after_outage = local_ims.token_requests(ORG)
        again = runtime_of(app).get_token(ORG)

    assert during_outage.access_token == first.access_token
    assert requests_after_outage == 1 + 3
    # The failed refresh is postponed, so the next call does not ask IMS again.
    assert again.access_token == first.access_token
    assert local_ims.token_requests(ORG) == requests_after_outage


def test_refresh_does_not_block_other_threads(
    seeded_app: AppBuilder, local_ims: LocalIMS, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_ims, "token_lifetime", 30)
    app = seeded_app(ADOBE_ADMIN_AUTH_TOKEN_REFRESH_MARGIN=300)
    with app.app_context():
        first = runtime_of(app).get_token(ORG)
    local_ims.fail_next(status=None, delay=1.0)
    refreshed: list[str] = []

    def refresh() -> None:
        with app.app_context():
            refreshed.append(runtime_of(app).get_token(ORG).access_token)

    leader = threading.Thread(target=refresh)
    leader.start()
    time.sleep(0.2)
    started = time.monotonic()
    with app.app_context():
        meanwhile = runtime_of(app).get_token(ORG)
    waited = time.monotonic() - started
    leader.join()

    assert meanwhile.access_token == first.access_token
    assert waited < 0.5
    assert refreshed[0] != first.access_token
    assert local_ims.token_requests(ORG) == 2


def test_invalidate_drops_cached_token(seeded_app: AppBuilder, local_ims: LocalIMS) -> None:
    app = seeded_app()
    with app.app_context():
        first = runtime_of(app).get_token(ORG)
        runtime_of(app).tokens.invalidate(ORG)
        second = runtime_of(app).get_token(ORG)

    assert first.access_token != second.access_token
    assert local_ims.token_requests(ORG) == 2


def test_invalidate_only_keeps_replacement(seeded_app: AppBuilder, local_ims: LocalIMS) -> None:
    app = seeded_app()
    with app.app_context():
        old = runtime_of(app).get_token(ORG)
        runtime_of(app).tokens.invalidate(ORG)
        new = runtime_of(app).get_token(ORG)

        dropped = runtime_of(app).tokens.invalidate(ORG, only=old)
        current = runtime_of(app).get_token(ORG)

    assert dropped is False
    assert current.access_token == new.access_token
    assert local_ims.token_requests(ORG) == 2
