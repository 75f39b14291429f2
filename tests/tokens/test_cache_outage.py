"""Requests keep working while the Redis cache is unreachable."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest
from flask import Flask

from flask_adobe_admin_auth.testing import LocalIMS

from .conftest import ORGS

AppBuilder = Callable[..., Flask]


def unreachable_redis_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def test_protected_view_survives_redis_outage(
    seeded_app: AppBuilder, local_ims: LocalIMS, caplog: pytest.LogCaptureFixture
) -> None:
    app = seeded_app(ADOBE_ADMIN_AUTH_CACHE=unreachable_redis_url())
    client = app.test_client()
    client.get("/login/account-0")

    statuses = [client.get("/reports").status_code for _ in range(5)]

    assert statuses == [200] * 5
    # The token stays in this process's memory, so IMS gets one request.
    assert local_ims.token_requests(ORGS[0]) == 1
    warnings = [r for r in caplog.records if "Cache backend unreachable" in r.getMessage()]
    assert len(warnings) == 1
