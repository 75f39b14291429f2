"""Fixtures shared by the test suite.

The storage under test comes from the environment, so that CI runs the same
suite twice: ``ADOBE_ADMIN_AUTH_TEST_DATABASE_URL`` (default: a SQLite file per
test) and ``ADOBE_ADMIN_AUTH_TEST_CACHE_URL`` (default: an in-process cache).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask, jsonify, session
from flask_sqlalchemy import SQLAlchemy

from flask_adobe_admin_auth import (
    AdobeAdminAuth,
    current_consent,
    current_token,
    requires_consent,
    requires_customer_token,
)
from flask_adobe_admin_auth.testing import LocalIMS

from .flow import FastLiveServer, Flow, add_csrf_page
from .support import LiveServer

DATABASE_URL = os.environ.get("ADOBE_ADMIN_AUTH_TEST_DATABASE_URL")
CACHE_URL = os.environ.get("ADOBE_ADMIN_AUTH_TEST_CACHE_URL")

AppFactory = Callable[..., Flask]

SHARED_STORAGE = DATABASE_URL is not None and CACHE_URL is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the cross-process tests when no shared database and cache are configured.

    They run in the PostgreSQL + Redis run; deselecting them elsewhere, rather
    than skipping, keeps every reported test one that actually ran.
    """
    if SHARED_STORAGE:
        return
    kept = [item for item in items if item.get_closest_marker("shared_storage") is None]
    deselected = [item for item in items if item.get_closest_marker("shared_storage") is not None]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return DATABASE_URL or f"sqlite:///{tmp_path / 'app.db'}"


@pytest.fixture
def cache_url() -> Iterator[str | None]:
    if CACHE_URL is None:
        yield None
        return
    import redis

    client = redis.Redis.from_url(CACHE_URL)
    client.flushdb()
    yield CACHE_URL
    client.flushdb()
    client.close()


@pytest.fixture
def make_app(local_ims: LocalIMS, database_url: str, cache_url: str | None) -> Iterator[AppFactory]:
    """Build a small partner app wired to the stand-in and the configured storage.

    ``/login/<account>`` signs an account in; ``/reports`` needs a customer
    token; ``/consent-info`` needs a consent only.
    """
    created: list[tuple[Flask, SQLAlchemy]] = []

    def factory(**config: Any) -> Flask:
        app = Flask(__name__)
        app.config.update(
            SECRET_KEY="test-secret-key-that-is-long-enough",
            SQLALCHEMY_DATABASE_URI=database_url,
            ADOBE_ADMIN_AUTH_CACHE=cache_url,
            ADOBE_ADMIN_AUTH_HTTP_BACKOFF=0.01,
            **local_ims.config(),
        )
        app.config.update(config)
        db = SQLAlchemy(app)
        adobe = AdobeAdminAuth(app, db=db)

        @adobe.account_loader
        def load_account() -> str | None:
            return session.get("account")

        @app.get("/login/<account>")
        def login(account: str) -> str:
            session["account"] = account
            return "signed in"

        @app.get("/logout")
        def logout() -> str:
            session.clear()
            return "signed out"

        @app.get("/reports")
        @requires_customer_token
        def reports() -> Any:
            return jsonify(
                org_id=current_token.org_id,
                consent_org_id=current_consent.org_id,
                expires_in=current_token.expires_in,
            )

        @app.get("/consent-info")
        @requires_consent
        def consent_info() -> Any:
            return jsonify(org_id=current_consent.org_id)

        @app.get("/")
        def home() -> str:
            return "home"

        with app.app_context():
            db.drop_all()
            db.create_all()
        app.extensions["test_adobe"] = adobe
        created.append((app, db))
        return app

    yield factory

    for app, db in created:
        with app.app_context():
            db.drop_all()
            db.engine.dispose()


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    return make_app()


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    server = LiveServer(app)
    yield server
    server.stop()


@pytest.fixture
def make_flow(make_app: AppFactory, local_ims: LocalIMS) -> Iterator[Callable[..., Flow]]:
    """Build a flow against a new app with extra configuration."""
    servers: list[LiveServer] = []

    def factory(**config: Any) -> Flow:
        app = make_app(**config)
        add_csrf_page(app)
        server = FastLiveServer(app)
        servers.append(server)
        return Flow(app, server, local_ims)

    yield factory
    for server in servers:
        server.stop()


@pytest.fixture
def browser() -> Iterator[requests.Session]:
    """A cookie-keeping HTTP client that plays the customer admin's browser."""
    with requests.Session() as client:
        yield client
