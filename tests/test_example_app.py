"""The example app over real HTTP, with its own stand-in or configured from the environment."""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from flask import Flask

from example_app import STAND_IN_KEY, adobe, create_app, db
from example_app.settings import config_from_env, parse_env_value
from flask_adobe_admin_auth.testing import DEFAULT_ORGS, LocalIMS

from .support import ORG_A, LiveServer

ExampleFactory = Callable[..., Flask]

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def no_adobe_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove every variable the example app reads, so it starts its own stand-in."""
    for name in ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "EXAMPLE_ADOBE_API_URL"):
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith("ADOBE_ADMIN_AUTH_") and not name.startswith("ADOBE_ADMIN_AUTH_TEST_"):
            monkeypatch.delenv(name)


@pytest.fixture
def make_example(
    no_adobe_env: None, database_url: str, cache_url: str | None
) -> Iterator[ExampleFactory]:
    """Build example apps on the suite's storage; drop their tables and stand-ins afterwards."""
    created: list[Flask] = []

    def factory(config: dict[str, Any] | None = None) -> Flask:
        overrides = {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "ADOBE_ADMIN_AUTH_CACHE": cache_url,
            "ADOBE_ADMIN_AUTH_HTTP_BACKOFF": 0.01,
            **(config or {}),
        }
        app = create_app(overrides)
        created.append(app)
        return app

    yield factory

    for app in created:
        stand_in = app.extensions.get(STAND_IN_KEY)
        if stand_in is not None:
            stand_in.stop()
        with app.app_context():
            db.drop_all()
            db.engine.dispose()


@pytest.fixture
def example_server(make_example: ExampleFactory) -> Iterator[LiveServer]:
    server = LiveServer(make_example())
    yield server
    server.stop()


def sign_in(browser: requests.Session, server: LiveServer, account: str) -> requests.Response:
    response = browser.post(f"{server.url}/sign-in", data={"account": account})
    response.raise_for_status()
    return response


def stand_in_of(server: LiveServer) -> LocalIMS:
    stand_in = server.app.extensions[STAND_IN_KEY]
    assert isinstance(stand_in, LocalIMS)
    return stand_in


def test_demo_walkthrough_with_stand_in(
    example_server: LiveServer, browser: requests.Session
) -> None:
    stand_in = stand_in_of(example_server)
    stand_in.auto_approve(ORG_A)
    sign_in(browser, example_server, "acme-admin")

    before = browser.get(f"{example_server.url}/dashboard")
    assert "Not connected" in before.text

    connected = browser.get(f"{example_server.url}/adobe/connect")
    assert connected.status_code == 200
    assert connected.url == f"{example_server.url}/dashboard"
    assert "Connected." in connected.text
    assert ORG_A in connected.text
    assert stand_in.consented_orgs()[ORG_A] in connected.text

    organization = browser.get(f"{example_server.url}/organization")
    assert organization.status_code == 200
    assert DEFAULT_ORGS[ORG_A] in organization.text
    with example_server.app.app_context():
        token = adobe.get_token(ORG_A)
    assert token.access_token not in organization.text
    assert stand_in.token_requests(ORG_A) == 1

    csrf_token = CSRF_FIELD.search(connected.text)
    assert csrf_token is not None
    disconnected = browser.post(
        f"{example_server.url}/adobe/disconnect",
        data={"csrf_token": csrf_token.group(1), "next": "/dashboard"},
    )
    assert disconnected.status_code == 200
    assert disconnected.url == f"{example_server.url}/dashboard"
    assert "Not connected" in disconnected.text


def test_stand_in_shows_consent_page(example_server: LiveServer, browser: requests.Session) -> None:
    sign_in(browser, example_server, "globex-admin")

    page = browser.get(f"{example_server.url}/adobe/connect")

    assert page.status_code == 200
    assert page.url.startswith(stand_in_of(example_server).base_url)
    assert "Approve" in page.text
    assert "Cancel" in page.text


def test_home_links_to_connect(example_server: LiveServer, browser: requests.Session) -> None:
    page = browser.get(example_server.url)

    assert page.status_code == 200
    assert 'href="/adobe/connect"' in page.text
    assert stand_in_of(example_server).base_url in page.text


def test_signed_out_connect_goes_to_sign_in(
    example_server: LiveServer, browser: requests.Session
) -> None:
    stand_in_of(example_server).auto_approve(ORG_A)

    response = browser.get(f"{example_server.url}/adobe/connect", allow_redirects=False)

    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=/adobe/connect"

    sign_in_page = browser.get(example_server.url + response.headers["Location"])
    assert 'name="next" value="/adobe/connect"' in sign_in_page.text
    finished = browser.post(
        f"{example_server.url}/sign-in", data={"account": "acme-admin", "next": "/adobe/connect"}
    )
    assert finished.url == f"{example_server.url}/dashboard"
    assert ORG_A in finished.text


def test_organization_page_without_consent_connects(
    example_server: LiveServer, browser: requests.Session
) -> None:
    sign_in(browser, example_server, "initech-admin")

    response = browser.get(f"{example_server.url}/organization", allow_redirects=False)

    assert response.status_code == 302
    assert response.headers["Location"] == "/adobe/connect?next=/organization"


def test_sign_in_rejects_unknown_account(
    example_server: LiveServer, browser: requests.Session
) -> None:
    response = browser.post(f"{example_server.url}/sign-in", data={"account": "mallory"})

    assert response.status_code == 400
    assert "Choose one of the demo accounts" in response.text
    assert "session" not in browser.cookies


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_sign_in_ignores_offsite_next(
    example_server: LiveServer, browser: requests.Session, target: str
) -> None:
    response = browser.post(
        f"{example_server.url}/sign-in",
        data={"account": "acme-admin", "next": target},
        allow_redirects=False,
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"


def test_no_secret_key_logs_warning(
    make_example: ExampleFactory, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="example_app"):
        app = make_example()

    assert len(app.config["SECRET_KEY"]) >= 32
    assert "SECRET_KEY is not set" in caplog.text


def test_restart_keeps_consents_usable(
    make_example: ExampleFactory, browser: requests.Session
) -> None:
    first = LiveServer(make_example({"SECRET_KEY": "example-test-secret-key"}))
    try:
        stand_in_of(first).auto_approve(ORG_A)
        sign_in(browser, first, "acme-admin")
        assert ORG_A in browser.get(f"{first.url}/adobe/connect").text
    finally:
        first.stop()
        stand_in_of(first).stop()

    # The same database and secret key, with a new stand-in that has never
    # seen the consent, as after a restart.
    second = LiveServer(make_example({"SECRET_KEY": "example-test-secret-key"}))
    try:
        browser.cookies.clear()
        sign_in(browser, second, "acme-admin")
        organization = browser.get(f"{second.url}/organization")
        assert organization.status_code == 200
        assert DEFAULT_ORGS[ORG_A] in organization.text
    finally:
        second.stop()


def test_environment_config_uses_given_ims(
    no_adobe_env: None,
    monkeypatch: pytest.MonkeyPatch,
    local_ims: LocalIMS,
    database_url: str,
    cache_url: str | None,
    browser: requests.Session,
) -> None:
    for name, value in local_ims.config().items():
        monkeypatch.setenv(name, value if isinstance(value, str) else json.dumps(value))
    monkeypatch.setenv("SECRET_KEY", "example-env-secret-key")
    monkeypatch.setenv("SQLALCHEMY_DATABASE_URI", database_url)
    monkeypatch.setenv("EXAMPLE_ADOBE_API_URL", local_ims.demo_api_url + "/organization")
    monkeypatch.setenv("ADOBE_ADMIN_AUTH_HTTP_BACKOFF", "0.01")
    if cache_url is not None:
        monkeypatch.setenv("ADOBE_ADMIN_AUTH_CACHE", cache_url)
    local_ims.auto_approve(ORG_A)

    app = create_app()
    server = LiveServer(app)
    try:
        assert STAND_IN_KEY not in app.extensions
        assert app.config["SECRET_KEY"] == "example-env-secret-key"
        assert app.config["ADOBE_ADMIN_AUTH_SCOPES"] == list(local_ims.scopes)

        sign_in(browser, server, "acme-admin")
        connected = browser.get(f"{server.url}/adobe/connect")
        assert ORG_A in connected.text

        organization = browser.get(f"{server.url}/organization")
        assert organization.status_code == 200
        assert DEFAULT_ORGS[ORG_A] in organization.text
        assert local_ims.token_requests(ORG_A) == 1
    finally:
        server.stop()
        with app.app_context():
            db.drop_all()
            db.engine.dispose()


def test_organization_page_reports_api_failure(
    make_example: ExampleFactory, browser: requests.Session
) -> None:
    server = LiveServer(make_example())
    try:
        stand_in = stand_in_of(server)
        stand_in.auto_approve(ORG_A)
        sign_in(browser, server, "acme-admin")
        browser.get(f"{server.url}/adobe/connect")
        server.app.config["EXAMPLE_ADOBE_API_URL"] = stand_in.base_url + "/no-such-api"

        response = browser.get(f"{server.url}/organization")

        assert response.status_code == 502
        assert "The Adobe API responded with HTTP 404" in response.text
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ('["openid", "AdobeID"]', ["openid", "AdobeID"]),
        ("true", True),
        ("0123456789", "0123456789"),
        ("openid,AdobeID", "openid,AdobeID"),
        ("[not json", "[not json"),
    ],
)
def test_env_values_parse(raw: str, parsed: object) -> None:
    assert parse_env_value(raw) == parsed


def test_env_config_keeps_prefix_and_skips_test_keys() -> None:
    environ = {
        "ADOBE_ADMIN_AUTH_CLIENT_ID": "client",
        "ADOBE_ADMIN_AUTH_TEST_DATABASE_URL": "sqlite://",
        "HOME": "/root",
    }

    assert config_from_env(environ) == {"ADOBE_ADMIN_AUTH_CLIENT_ID": "client"}


def test_request_log_hides_callback_query(
    example_server: LiveServer, browser: requests.Session, caplog: pytest.LogCaptureFixture
) -> None:
    stand_in_of(example_server).auto_approve(ORG_A)
    sign_in(browser, example_server, "acme-admin")

    with caplog.at_level(logging.INFO, logger="werkzeug"):
        connected = browser.get(f"{example_server.url}/adobe/connect")

    assert ORG_A in connected.text
    assert "GET /adobe/callback?… HTTP/1.1" in caplog.text
    assert "id_token" not in caplog.text
    assert "state=" not in caplog.text
