"""Configuration that would weaken the flow is reported at ``init_app``."""

from __future__ import annotations

import logging

import pytest

from flask_adobe_admin_auth import ConfigurationError

from ..conftest import AppFactory


@pytest.mark.parametrize(
    "uri",
    [
        "http://app.example/adobe/callback",
        "http://localhost.evil.example/adobe/callback",
        "http://10.0.0.5/adobe/callback",
        "ftp://app.example/adobe/callback",
        "/adobe/callback",
        "https://app.example/adobe/callback#fragment",
        "https://user@app.example/adobe/callback",
        "https://app.example/" + "a" * 300,
    ],
)
def test_unsafe_redirect_uri_fails(make_app: AppFactory, uri: str) -> None:
    with pytest.raises(ConfigurationError, match="ADOBE_ADMIN_AUTH_REDIRECT_URI"):
        make_app(ADOBE_ADMIN_AUTH_REDIRECT_URI=uri)


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example/adobe/callback",
        "http://localhost:8000/adobe/callback",
        "http://127.0.0.1:5000/adobe/callback",
        "https://localhost:8000",
    ],
)
def test_https_or_local_redirect_uri_accepted(make_app: AppFactory, uri: str) -> None:
    app = make_app(ADOBE_ADMIN_AUTH_REDIRECT_URI=uri)

    assert "adobe_admin_auth" in app.extensions


@pytest.mark.parametrize("secret_key", [None, ""])
def test_missing_secret_key_fails(make_app: AppFactory, secret_key: str | None) -> None:
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        make_app(SECRET_KEY=secret_key)


def test_strict_session_cookie_warns(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="flask_adobe_admin_auth"):
        make_app(SESSION_COOKIE_SAMESITE="Strict")

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("SESSION_COOKIE_SAMESITE" in r.getMessage() for r in warnings)
    assert any("reloads it" in r.getMessage() for r in warnings)


def test_strict_binding_cookie_warns(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="flask_adobe_admin_auth"):
        make_app(ADOBE_ADMIN_AUTH_BINDING_COOKIE_SAMESITE="Strict")

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("BINDING_COOKIE_SAMESITE" in r.getMessage() for r in warnings)
    assert any("bounces once" in r.getMessage() for r in warnings)


def test_lax_cookies_do_not_warn(make_app: AppFactory, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="flask_adobe_admin_auth"):
        make_app(SESSION_COOKIE_SAMESITE="Lax")

    assert not [r for r in caplog.records if "SAMESITE" in r.getMessage()]
