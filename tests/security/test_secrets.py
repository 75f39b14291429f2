"""Secrets stay secret: logs, pages, exceptions, signals and the cache never show one."""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cachelib import SimpleCache
from flask import Flask
from flask.testing import FlaskClient

from flask_adobe_admin_auth import (
    consent_denied,
    consent_granted,
    consent_revoked,
    current_token,
    requires_customer_token,
    token_minted,
)
from flask_adobe_admin_auth.crypto import TokenCipher
from flask_adobe_admin_auth.errors import ConsentRejected
from flask_adobe_admin_auth.runtime import get_runtime
from flask_adobe_admin_auth.testing import LocalIMS

from ..conftest import CACHE_URL, AppFactory
from ..support import ORG_A
from ..tokens.helpers import seed_consent

OLD_KEY = "old-encryption-key"
THIRD_PARTY_LOGGERS = ("werkzeug", "urllib3", "authlib", "requests", "sqlalchemy")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def consent_redirect(consent_url: str) -> str:
    """Open the stand-in's consent URL without logging it and return where it redirects.

    ``urllib`` logs nothing, unlike ``requests``, whose ``urllib3`` debug log
    would put the test's own browser requests into the captured output.
    """
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(consent_url, timeout=10)
    except urllib.error.HTTPError as redirect:
        return str(redirect.headers["Location"])
    raise AssertionError("the consent page did not redirect")


class SignalRecorder:
    """Records every signal the extension sends, as the text of its payload."""

    def __init__(self) -> None:
        self.payloads: list[str] = []

    def __call__(self, sender: object, **payload: Any) -> None:
        self.payloads.append(repr(payload) + str(payload))


@pytest.fixture
def recorder() -> Iterator[SignalRecorder]:
    recorder = SignalRecorder()
    signals = (consent_granted, consent_denied, consent_revoked, token_minted)
    for signal in signals:
        signal.connect(recorder)
    yield recorder
    for signal in signals:
        signal.disconnect(recorder)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_no_secret_in_logs_pages_errors_or_signals(
    make_app: AppFactory,
    local_ims: LocalIMS,
    caplog: pytest.LogCaptureFixture,
    recorder: SignalRecorder,
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in THIRD_PARTY_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    app = make_app()
    access_tokens: list[str] = []

    @app.get("/adobe-test/token")
    @requires_customer_token
    def token_view() -> str:
        access_tokens.append(current_token.access_token)
        return f"token for {current_token.org_id}: {current_token!r}"

    client = app.test_client()
    pages: list[str] = []
    states: list[str] = []
    nonces: list[str] = []
    id_tokens: list[str] = []
    errors: list[str] = []

    def start(client: FlaskClient) -> tuple[str, str]:
        location = client.get("/adobe/connect").headers["Location"]
        query = parse_qs(urlsplit(location).query)
        states.append(query["state"][0])
        nonces.append(query["nonce"][0])
        return location, query["nonce"][0]

    def visit(client: FlaskClient, path: str, **kwargs: Any) -> None:
        response = client.get(path, **kwargs)
        pages.append(response.get_data(as_text=True))
        pages.append(str(response.headers))

    # The whole flow, through the stand-in's consent page.
    local_ims.auto_approve(ORG_A)
    client.get("/login/alice")
    consent_url, _ = start(client)
    callback_url = consent_redirect(consent_url)
    id_tokens.append(parse_qs(urlsplit(callback_url).query)["id_token"][0])
    visit(client, path_of(callback_url))
    visit(client, "/adobe-test/token")
    visit(client, "/reports")

    # Failure cases: replay, forged algorithm, wrong nonce, another browser.
    visit(client, path_of(callback_url))
    _, nonce = start(client)
    forged = local_ims.make_id_token(org_id=ORG_A, nonce=nonce, alg="HS256")
    id_tokens.append(forged)
    visit(client, f"/adobe/callback?state={states[-1]}&admin_consent=true&id_token={forged}")
    start(client)
    wrong_nonce = local_ims.make_id_token(org_id=ORG_A, nonce="other")
    id_tokens.append(wrong_nonce)
    visit(client, f"/adobe/callback?state={states[-1]}&admin_consent=true&id_token={wrong_nonce}")
    _, nonce = start(client)
    stolen = local_ims.make_id_token(org_id=ORG_A, nonce=nonce)
    id_tokens.append(stolen)
    attacker = app.test_client()
    attacker.get("/login/mallory")
    attacker.get("/adobe/connect")  # gives the attacker a binding cookie
    visit(attacker, f"/adobe/callback?state={states[-1]}&admin_consent=true&id_token={stolen}")

    # The same failures raised directly, to read the exception messages.
    with app.app_context():
        verifier = get_runtime(app).verifier
        for id_token, nonce in [(forged, nonces[1]), (wrong_nonce, nonces[2]), (id_tokens[0], "x")]:
            with pytest.raises(ConsentRejected) as raised:
                verifier.verify(id_token, nonce=nonce)
            errors.append(f"{raised.value!s} {raised.value!r} {raised.value.args!r}")
        errors.append(repr(get_runtime(app).settings))

    # A token the stand-in rejects, and a disconnect.
    local_ims.fail_next(status=400, body={"error": "invalid_client"})
    with app.app_context():
        get_runtime(app).tokens.invalidate(ORG_A)
    visit(client, "/adobe-test/token")
    visit(client, "/adobe-test/token")  # mints again after the failure
    disconnect = client.post("/adobe/disconnect", data={"csrf_token": "wrong"})
    pages.append(disconnect.get_data(as_text=True))

    secrets = {
        "client secret": local_ims.client_secrets[0],
        **{f"access token {i}": token for i, token in enumerate(access_tokens)},
        **{f"id_token {i}": token for i, token in enumerate(id_tokens)},
        **{f"state {i}": state for i, state in enumerate(states)},
        **{f"nonce {i}": nonce for i, nonce in enumerate(nonces)},
    }
    log_text = caplog.text + "\n".join(record.getMessage() for record in caplog.records)
    haystacks = {
        "logs": log_text,
        "pages": "\n".join(pages),
        "exceptions": "\n".join(errors),
        "signals": "\n".join(recorder.payloads),
    }

    assert access_tokens, "no access token was minted"
    assert len(recorder.payloads) >= 4
    assert any("werkzeug" in r.name or "urllib3" in r.name for r in caplog.records)
    for place, text in haystacks.items():
        for name, secret in secrets.items():
            assert secret not in text, f"{name} appears in {place}"


def raw_cache_text(app: Flask) -> str:
    """Return every raw value of the app's cache, as stored, as one string."""
    backend = get_runtime(app).cache.backend
    if CACHE_URL is not None:
        import redis

        client = redis.Redis.from_url(CACHE_URL)
        try:
            raw = [client.get(key) or b"" for key in client.scan_iter()]
        finally:
            client.close()
        return "\n".join(
            value.decode("latin-1") if isinstance(value, bytes) else value for value in raw
        )
    assert isinstance(backend, SimpleCache)
    stored = backend._cache.values()
    return "\n".join(repr(value) for value in stored)


def test_cached_token_is_encrypted(make_app: AppFactory, local_ims: LocalIMS) -> None:
    app = make_app()
    seed_consent(app, local_ims, "account-a", ORG_A)

    with app.app_context():
        token = get_runtime(app).get_token(ORG_A)
    raw = raw_cache_text(app)

    assert "refresh_at" in raw  # the token entry is there
    assert token.access_token not in raw
    assert local_ims.client_secrets[0] not in raw


def shared_cache_config() -> dict[str, Any]:
    if CACHE_URL is not None:
        return {"ADOBE_ADMIN_AUTH_CACHE": CACHE_URL}
    return {"ADOBE_ADMIN_AUTH_CACHE": SimpleCache()}


@pytest.mark.parametrize(
    ("old_config", "new_config"),
    [
        (
            {"ADOBE_ADMIN_AUTH_TOKEN_ENCRYPTION_KEYS": [OLD_KEY]},
            {"ADOBE_ADMIN_AUTH_TOKEN_ENCRYPTION_KEYS": ["new-encryption-key", OLD_KEY]},
        ),
        (
            {"SECRET_KEY": "old-secret-key-of-the-app"},
            {
                "SECRET_KEY": "new-secret-key-of-the-app",
                "SECRET_KEY_FALLBACKS": ["old-secret-key-of-the-app"],
            },
        ),
    ],
    ids=["encryption-keys", "secret-key-fallbacks"],
)
def test_rotated_key_reads_old_tokens(
    make_app: AppFactory,
    local_ims: LocalIMS,
    old_config: dict[str, Any],
    new_config: dict[str, Any],
) -> None:
    cache = shared_cache_config()
    old_app = make_app(**old_config, **cache)
    new_app = make_app(**new_config, **cache)
    # Tokens are minted only for orgs with an active consent in the app's database.
    seed_consent(new_app, local_ims, "account-a", ORG_A)

    with old_app.app_context():
        written = get_runtime(old_app).get_token(ORG_A)
    with new_app.app_context():
        read = get_runtime(new_app).get_token(ORG_A)

    assert read.access_token == written.access_token
    assert local_ims.token_requests(ORG_A) == 1


def test_unknown_key_cannot_read_tokens(make_app: AppFactory, local_ims: LocalIMS) -> None:
    cache = shared_cache_config()
    old_app = make_app(ADOBE_ADMIN_AUTH_TOKEN_ENCRYPTION_KEYS=["old-encryption-key"], **cache)
    new_app = make_app(ADOBE_ADMIN_AUTH_TOKEN_ENCRYPTION_KEYS=["new-encryption-key"], **cache)
    # Tokens are minted only for orgs with an active consent in the app's database.
    seed_consent(new_app, local_ims, "account-a", ORG_A)

    with old_app.app_context():
        written = get_runtime(old_app).get_token(ORG_A)
    with new_app.app_context():
        read = get_runtime(new_app).get_token(ORG_A)

    assert read.access_token != written.access_token
    assert local_ims.token_requests(ORG_A) == 2


def test_cipher_rotation_order() -> None:
    old = TokenCipher(["old-key"])
    rotated = TokenCipher(["new-key", "old-key"])
    new_only = TokenCipher(["new-key"])

    written_old = old.encrypt("plaintext-token")
    written_new = rotated.encrypt("plaintext-token")

    assert rotated.decrypt(written_old) == "plaintext-token"
    assert new_only.decrypt(written_new) == "plaintext-token"
    assert old.decrypt(written_new) is None
    assert "plaintext-token" not in written_old
