"""Timeouts, connection errors, 5xx and 429: retried with backoff, never a revocation."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from flask_adobe_admin_auth import IMSUnavailable
from flask_adobe_admin_auth.testing import LocalIMS

from .conftest import ORGS, SleepRecorder, record_sleeps
from .helpers import runtime_of

ORG = ORGS[0]
AppBuilder = Callable[..., Flask]


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/ims/token/v3"


def assert_consent_active(app: Flask, org_id: str = ORG) -> None:
    with app.app_context():
        consents = runtime_of(app).store.find(org_id=org_id)
    assert [consent.status for consent in consents] == ["active"]


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_transient_status_retried(
    seeded_app: AppBuilder, local_ims: LocalIMS, sleeps: SleepRecorder, status: int
) -> None:
    app = seeded_app()
    record_sleeps(app, sleeps)
    local_ims.fail_next(2, status=status)

    with app.app_context():
        token = runtime_of(app).get_token(ORG)

    assert token.org_id == ORG
    assert local_ims.token_requests(ORG) == 3
    assert len(sleeps.delays) == 2


def test_backoff_grows_exponentially(
    seeded_app: AppBuilder, local_ims: LocalIMS, sleeps: SleepRecorder
) -> None:
    app = seeded_app(ADOBE_ADMIN_AUTH_HTTP_BACKOFF=1.0, ADOBE_ADMIN_AUTH_HTTP_MAX_ATTEMPTS=4)
    record_sleeps(app, sleeps)
    local_ims.fail_next(3, status=503)

    with app.app_context():
        runtime_of(app).get_token(ORG)

    # Full jitter: retry n waits between 0 and 2 ** (n - 1) seconds (1, 2, then 4).
    assert len(sleeps.delays) == 3
    for retry, delay in enumerate(sleeps.delays, start=1):
        assert 0 <= delay <= 2 ** (retry - 1)


def test_retry_after_honoured(
    seeded_app: AppBuilder, local_ims: LocalIMS, sleeps: SleepRecorder
) -> None:
    app = seeded_app()
    record_sleeps(app, sleeps)
    local_ims.fail_next(status=429, headers={"Retry-After": "7"})

    with app.app_context():
        runtime_of(app).get_token(ORG)

    assert sleeps.delays == [7.0]
    assert local_ims.token_requests(ORG) == 2


def test_retry_after_beyond_budget_gives_up(
    seeded_app: AppBuilder, local_ims: LocalIMS, sleeps: SleepRecorder
) -> None:
    app = seeded_app(ADOBE_ADMIN_AUTH_HTTP_MAX_RETRY_TIME=5)
    record_sleeps(app, sleeps)
    local_ims.fail_next(status=429, headers={"Retry-After": "60"})

    with app.app_context(), pytest.raises(IMSUnavailable):
        runtime_of(app).get_token(ORG)

    assert sleeps.delays == []
    assert local_ims.token_requests(ORG) == 1
    assert_consent_active(app)


def test_timeout_retried(seeded_app: AppBuilder, local_ims: LocalIMS) -> None:
    app = seeded_app(ADOBE_ADMIN_AUTH_HTTP_TIMEOUT=0.2)
    local_ims.fail_next(status=None, delay=0.6)

    started = time.monotonic()
    with app.app_context():
        token = runtime_of(app).get_token(ORG)

    assert token.org_id == ORG
    assert time.monotonic() - started < 0.6
    assert local_ims.token_requests(ORG) == 2


def test_connection_error_gives_ims_unavailable(
    seeded_app: AppBuilder, sleeps: SleepRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    app = seeded_app(ADOBE_ADMIN_AUTH_TOKEN_URL=closed_port_url())
    record_sleeps(app, sleeps)

    with app.app_context(), pytest.raises(IMSUnavailable) as caught:
        runtime_of(app).get_token(ORG)

    assert caught.value.org_id == ORG
    assert len(sleeps.delays) == 2
    assert "ConnectionError" in caplog.text
    assert_consent_active(app)


def test_exhausted_retries_never_revoke(
    seeded_app: AppBuilder, local_ims: LocalIMS, revocations: list[dict[str, Any]]
) -> None:
    app = seeded_app()
    local_ims.fail_next(3, status=500, body={"error": "invalid_org"})

    with app.app_context(), pytest.raises(IMSUnavailable):
        runtime_of(app).get_token(ORG)

    assert local_ims.token_requests(ORG) == 3
    assert revocations == []
    assert_consent_active(app)


def test_outage_gives_browser_503_page(seeded_app: AppBuilder, local_ims: LocalIMS) -> None:
    app = seeded_app()
    local_ims.fail_next(3, status=503)
    client = app.test_client()
    client.get("/login/account-0")

    response = client.get("/reports", headers={"Accept": "text/html"})

    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert response.headers["Retry-After"] == "30"
    assert_consent_active(app)


def test_outage_gives_json_client_503(seeded_app: AppBuilder, local_ims: LocalIMS) -> None:
    app = seeded_app()
    local_ims.fail_next(3, status=503)
    client = app.test_client()
    client.get("/login/account-0")

    response = client.get("/reports", headers={"Accept": "application/json"})

    assert response.status_code == 503
    assert response.is_json
    assert response.get_json()["error"] == "ims_unavailable"


def test_outage_shared_with_waiting_threads(seeded_app: AppBuilder, local_ims: LocalIMS) -> None:
    from .workers import fetch_in_threads

    app = seeded_app()
    local_ims.fail_next(status=503, delay=0.3)
    local_ims.fail_next(2, status=503)

    results = fetch_in_threads(app, (ORG,), threads=12)

    assert {outcome[1:] for outcome in results} == {("IMSUnavailable", "ims_unavailable")}
    assert local_ims.token_requests(ORG) == 3
