"""The JWKS client: cached, refetched on an unknown kid at most once per cooldown."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from flask import Flask
from joserfc.jwk import RSAKey

from flask_adobe_admin_auth.jwks import JWKSClient, JWKSUnavailable
from flask_adobe_admin_auth.testing import LocalIMS

from .helpers import runtime_of

AppBuilder = Callable[..., Flask]
COOLDOWN_KEY = "jwks:cooldown"


def jwks_of(app: Flask) -> JWKSClient:
    return runtime_of(app).jwks


def end_cooldown(app: Flask) -> None:
    # The cooldown is a cache entry with a lifetime; deleting it is what its expiry does.
    runtime_of(app).cache.delete(COOLDOWN_KEY)


def test_threads_fetch_jwks_once(make_app: AppBuilder, local_ims: LocalIMS) -> None:
    client = jwks_of(make_app())
    found: list[RSAKey | None] = []
    start = threading.Barrier(16)
    local_ims.fail_next(endpoint="jwks", status=None, delay=0.2)

    def work() -> None:
        start.wait()
        found.append(client.get_key(local_ims.current_kid))

    threads = [threading.Thread(target=work) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(found) == 16
    assert all(key is not None for key in found)
    assert local_ims.jwks_requests() == 1


def test_workers_share_one_cold_fetch(make_app: AppBuilder, local_ims: LocalIMS) -> None:
    # Four clients on one shared cache stand for four worker processes.
    runtime = runtime_of(make_app())
    clients = [
        JWKSClient(
            url=runtime.settings.jwks_url,
            cache=runtime.cache,
            cache_timeout=runtime.settings.jwks_cache_timeout,
            refetch_cooldown=runtime.settings.jwks_refetch_cooldown,
            http_timeout=runtime.settings.http_timeout,
        )
        for _ in range(4)
    ]
    found: list[RSAKey | None] = []
    start = threading.Barrier(len(clients))
    local_ims.fail_next(endpoint="jwks", status=None, delay=0.3)

    def work(client: JWKSClient) -> None:
        start.wait()
        found.append(client.get_key(local_ims.current_kid))

    threads = [threading.Thread(target=work, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(found) == 4
    assert all(key is not None for key in found)
    assert local_ims.jwks_requests() == 1


def test_bogus_kids_cannot_hammer_ims(make_app: AppBuilder, local_ims: LocalIMS) -> None:
    app = make_app()
    client = jwks_of(app)
    assert client.get_key(local_ims.current_kid) is not None
    end_cooldown(app)

    results = [client.get_key(f"bogus-{number}") for number in range(200)]

    assert results == [None] * 200
    assert local_ims.jwks_requests() == 2


def test_rotation_picked_up_on_unknown_kid(make_app: AppBuilder, local_ims: LocalIMS) -> None:
    app = make_app()
    client = jwks_of(app)
    old_kid = local_ims.current_kid
    assert client.get_key(old_kid) is not None

    new_kid = local_ims.rotate_signing_key()
    right_after_cold_fetch = client.get_key(new_kid)
    newer_kid = local_ims.rotate_signing_key()
    during_cooldown = client.get_key(newer_kid)
    end_cooldown(app)
    after_cooldown = client.get_key(newer_kid)

    assert right_after_cold_fetch is not None
    assert during_cooldown is None
    assert after_cooldown is not None
    assert client.get_key(old_kid) is not None
    assert local_ims.jwks_requests() == 3


def test_unknown_kids_after_cold_fetch_refetch_once(
    make_app: AppBuilder, local_ims: LocalIMS
) -> None:
    client = jwks_of(make_app())
    assert client.get_key(local_ims.current_kid) is not None

    found = [client.get_key(f"made-up-{number}") for number in range(20)]

    assert found == [None] * 20
    assert local_ims.jwks_requests() == 2


@pytest.mark.parametrize(
    ("status", "body"),
    [(500, None), (200, {"keys": []}), (200, "not json"), (200, {"keys": [{"kty": "EC"}]})],
)
def test_failed_refetch_keeps_good_keys(
    make_app: AppBuilder, local_ims: LocalIMS, status: int, body: object
) -> None:
    app = make_app()
    client = jwks_of(app)
    kid = local_ims.current_kid
    assert client.get_key(kid) is not None
    end_cooldown(app)
    local_ims.fail_next(endpoint="jwks", status=status, body=body)  # type: ignore[arg-type]

    assert client.get_key("rotated-maybe") is None
    assert client.get_key(kid) is not None
    assert runtime_of(app).cache.get("jwks") is not None
    assert local_ims.jwks_requests() == 2


def test_expired_cache_and_outage_keep_local_keys(
    make_app: AppBuilder, local_ims: LocalIMS
) -> None:
    app = make_app()
    client = jwks_of(app)
    kid = local_ims.current_kid
    assert client.get_key(kid) is not None
    runtime_of(app).cache.delete("jwks")
    local_ims.fail_next(endpoint="jwks", status=503)

    assert client.get_key(kid) is not None


def test_cold_cache_and_outage_raise(make_app: AppBuilder, local_ims: LocalIMS) -> None:
    client = jwks_of(make_app())
    local_ims.fail_next(endpoint="jwks", status=503)

    with pytest.raises(JWKSUnavailable):
        client.get_key(local_ims.current_kid)


def test_verified_id_tokens_share_one_fetch(make_app: AppBuilder, local_ims: LocalIMS) -> None:
    verifier = runtime_of(make_app()).verifier

    for number in range(50):
        nonce = f"nonce-{number}"
        id_token = local_ims.make_id_token(org_id="ORG@AdobeOrg", nonce=nonce)
        verifier.verify(id_token, nonce=nonce)

    assert local_ims.jwks_requests() == 1
