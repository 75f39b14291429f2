"""The decorators on ``async def`` views."""

from __future__ import annotations

from typing import Any

import requests
from flask import Flask, jsonify

from flask_adobe_admin_auth import (
    current_consent,
    current_token,
    requires_consent,
    requires_customer_token,
)
from flask_adobe_admin_auth.testing import LocalIMS

from .support import ORG_A, LiveServer


def add_async_views(app: Flask) -> None:
    @app.get("/async/reports")
    @requires_customer_token
    async def async_reports() -> Any:
        return jsonify(org_id=current_token.org_id)

    @app.get("/async/consent")
    @requires_consent
    async def async_consent() -> Any:
        return jsonify(org_id=current_consent.org_id)


def test_async_view_gets_token(
    make_app: Any, local_ims: LocalIMS, browser: requests.Session
) -> None:
    app = make_app()
    add_async_views(app)
    server = LiveServer(app)
    try:
        local_ims.auto_approve(ORG_A)
        browser.get(f"{server.url}/login/alice")

        response = browser.get(f"{server.url}/adobe/connect?next=/async/reports")

        assert response.status_code == 200
        assert response.json() == {"org_id": ORG_A}
        assert browser.get(f"{server.url}/async/consent").json() == {"org_id": ORG_A}
    finally:
        server.stop()


def test_async_view_without_consent_redirects(make_app: Any) -> None:
    app = make_app()
    add_async_views(app)
    client = app.test_client()
    client.get("/login/alice")

    response = client.get("/async/reports")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/adobe/connect?next=")


def test_async_view_without_account_is_unauthorized(make_app: Any) -> None:
    app = make_app()
    add_async_views(app)

    response = app.test_client().get("/async/consent", headers={"Accept": "application/json"})

    assert response.status_code == 401
    assert response.json is not None
    assert response.json["error"] == "not_signed_in"
