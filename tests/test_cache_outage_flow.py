"""The consent flow while the shared cache is unreachable: 503 pages, nothing stored."""

from __future__ import annotations

import logging
import socket
from typing import Any

import pytest

from flask_adobe_admin_auth.runtime import get_runtime


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def app_without_cache(make_app: Any) -> Any:
    return make_app(ADOBE_ADMIN_AUTH_CACHE=f"redis://127.0.0.1:{unused_port()}/0")


def test_connect_answers_503(app_without_cache: Any, caplog: pytest.LogCaptureFixture) -> None:
    client = app_without_cache.test_client()
    client.get("/login/alice")

    with caplog.at_level(logging.ERROR, logger="flask_adobe_admin_auth"):
        response = client.get("/adobe/connect")

    assert response.status_code == 503
    assert "cache_unavailable" in response.get_data(as_text=True)
    assert "shared cache is unreachable" in caplog.text


def test_callback_answers_503_and_stores_nothing(app_without_cache: Any) -> None:
    client = app_without_cache.test_client()
    client.get("/login/alice")
    client.get("/adobe/connect")

    response = client.get("/adobe/callback?state=abc&admin_consent=true&id_token=a.b.c")

    assert response.status_code == 503
    with app_without_cache.app_context():
        assert get_runtime().store.find(account_id="alice") == []
