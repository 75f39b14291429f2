"""Classification of token-endpoint failures, secret fallback and org rejection."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from flask_adobe_admin_auth import ConfigurationError, ConsentRevokedError, TokenMintFailed
from flask_adobe_admin_auth.mint_policy import (
    Verdict,
    backoff_delay,
    classify,
    org_rejections_to_revoke,
)
from flask_adobe_admin_auth.store import EVENT_TOKEN_REJECTED
from flask_adobe_admin_auth.testing import LocalIMS
from flask_adobe_admin_auth.token_endpoint import TokenFailure

from .conftest import ORGS
from .helpers import runtime_of
from .test_token_cache import token_cache_key

ORG = ORGS[0]
AppBuilder = Callable[..., Flask]
SECRET = "local-client-secret"


def failure(status: int | None, error: str | None) -> TokenFailure:
    return TokenFailure(
        status=status, error=error, description=None, debug_id=None, retry_after=None
    )


@pytest.mark.parametrize(
    ("status", "error", "verdict"),
    [
        (None, None, Verdict.TRANSIENT),
        (500, "internal_error", Verdict.TRANSIENT),
        (503, None, Verdict.TRANSIENT),
        (429, "too_many_requests", Verdict.TRANSIENT),
        (408, None, Verdict.TRANSIENT),
        (400, "invalid_client", Verdict.CLIENT_REJECTED),
        (401, "invalid_client", Verdict.CLIENT_REJECTED),
        (400, "invalid_scope", Verdict.CONFIGURATION),
        (400, "unsupported_grant_type", Verdict.CONFIGURATION),
        (400, "unauthorized_client", Verdict.CONFIGURATION),
        (400, "invalid_request", Verdict.CONFIGURATION),
        (401, "invalid_request", Verdict.CONFIGURATION),
        (400, "invalid_grant", Verdict.ORG_REJECTED),
        (200, "invalid_token_response", Verdict.TRANSIENT),
        (301, None, Verdict.CONFIGURATION),
        (307, None, Verdict.CONFIGURATION),
        (308, "invalid_org", Verdict.CONFIGURATION),
        (404, None, Verdict.CONFIGURATION),
        (405, "method_not_allowed", Verdict.CONFIGURATION),
        (400, "invalid_org", Verdict.ORG_REJECTED),
        (401, "unauthorized", Verdict.ORG_REJECTED),
        (403, "org_disabled", Verdict.ORG_REJECTED),
        (403, None, Verdict.FAILED),
        (400, None, Verdict.FAILED),
    ],
)
def test_classify_default_policy(status: int | None, error: str | None, verdict: Verdict) -> None:
    assert classify(failure(status, error), None) is verdict


def test_classify_with_listed_codes() -> None:
    listed = ("org_disabled",)

    assert classify(failure(403, "org_disabled"), listed) is Verdict.ORG_REJECTED
    assert classify(failure(400, "invalid_org"), listed) is Verdict.FAILED
    assert classify(failure(503, "org_disabled"), listed) is Verdict.TRANSIENT


def test_listed_code_overrides_configuration() -> None:
    listed = ("invalid_request",)

    assert classify(failure(400, "invalid_request"), listed) is Verdict.ORG_REJECTED
    assert classify(failure(404, "invalid_request"), listed) is Verdict.CONFIGURATION
    assert classify(failure(400, "invalid_scope"), listed) is Verdict.CONFIGURATION


def test_listed_client_error_never_revokes() -> None:
    assert classify(failure(401, "invalid_client"), ("invalid_client",)) is Verdict.CLIENT_REJECTED


def test_listed_codes_need_no_confirmation() -> None:
    assert org_rejections_to_revoke(None) == 2
    assert org_rejections_to_revoke(("org_disabled",)) == 1


def test_backoff_delay_bounds() -> None:
    def highest(low: float, high: float) -> float:
        return high

    assert backoff_delay(1, 0.5, None, uniform=highest) == 0.5
    assert backoff_delay(3, 0.5, None, uniform=highest) == 2.0
    assert backoff_delay(1, 0.5, 9.0, uniform=highest) == 9.0


def assert_revoked_once(app: Flask, revocations: list[dict[str, Any]], org_id: str = ORG) -> None:
    with app.app_context():
        consent = runtime_of(app).store.find(org_id=org_id)[0]
        events = runtime_of(app).store.events(org_id=org_id)
    assert consent.status == "revoked"
    assert consent.revoked_reason == "token_rejected"
    assert [event.kind for event in events].count(EVENT_TOKEN_REJECTED) == 1
    assert [signal["org_id"] for signal in revocations] == [org_id]


def assert_not_revoked(app: Flask, revocations: list[dict[str, Any]]) -> None:
    with app.app_context():
        consent = runtime_of(app).store.find(org_id=ORG)[0]
    assert consent.status == "active"
    assert revocations == []


def test_revoked_org_revokes_consent(
    seeded_app: AppBuilder, local_ims: LocalIMS, revocations: list[dict[str, Any]]
) -> None:
    app = seeded_app()
    with app.app_context():
        runtime_of(app).get_token(ORG)
        runtime_of(app).tokens.invalidate(ORG)
    local_ims.revoke(ORG)

    with app.app_context(), pytest.raises(ConsentRevokedError) as caught:
        runtime_of(app).get_token(ORG)

    assert caught.value.debug_id
    assert local_ims.token_requests(ORG) == 1 + 2
    assert_revoked_once(app, revocations)
    assert runtime_of(app).cache.get(token_cache_key(app, ORG)) is None


def test_revoked_org_sends_browser_to_connect(
    seeded_app: AppBuilder, local_ims: LocalIMS, revocations: list[dict[str, Any]]
) -> None:
    app = seeded_app()
    local_ims.revoke(ORG)
    client = app.test_client()
    client.get("/login/account-0")

    page = client.get("/reports", headers={"Accept": "text/html"})
    api = client.get("/reports", headers={"Accept": "application/json"})

    assert page.status_code == 302
    assert "/adobe/connect" in page.headers["Location"]
    assert api.status_code == 403
    assert api.get_json()["error"] == "consent_required"
    assert local_ims.token_requests(ORG) == 2
    assert_revoked_once(app, revocations)


@pytest.mark.parametrize("response", [(403, "org_disabled"), (401, "invalid_token")])
def test_other_rejection_codes_revoke(
    seeded_app: AppBuilder,
    local_ims: LocalIMS,
    revocations: list[dict[str, Any]],
    response: tuple[int, str],
) -> None:
    app = seeded_app()
    local_ims.revoke(ORG)
    local_ims.revoked_org_response = response

    with app.app_context(), pytest.raises(ConsentRevokedError):
        runtime_of(app).get_token(ORG)

    assert_revoked_once(app, revocations)


def test_single_rejection_not_enough(
    seeded_app: AppBuilder, local_ims: LocalIMS, revocations: list[dict[str, Any]]
) -> None:
    app = seeded_app()
    local_ims.fail_next(status=400, body={"error": "invalid_org"})

    with app.app_context():
        token = runtime_of(app).get_token(ORG)

    assert token.org_id == ORG
    assert local_ims.token_requests(ORG) == 2
    assert_not_revoked(app, revocations)


def test_listed_code_revokes_at_once(
    seeded_app: AppBuilder, local_ims: LocalIMS, revocations: list[dict[str, Any]]
) -> None:
    app = seeded_app(ADOBE_ADMIN_AUTH_ORG_REJECTION_ERRORS=["invalid_org"])
    local_ims.revoke(ORG)

    with app.app_context(), pytest.raises(ConsentRevokedError):
        runtime_of(app).get_token(ORG)

    assert local_ims.token_requests(ORG) == 1
    assert_revoked_once(app, revocations)


def test_unlisted_code_fails_without_revoking(
    seeded_app: AppBuilder, local_ims: LocalIMS, revocations: list[dict[str, Any]]
) -> None:
    app = seeded_app(ADOBE_ADMIN_AUTH_ORG_REJECTION_ERRORS=["org_disabled"])
    local_ims.revoke(ORG)

    with app.app_context(), pytest.raises(TokenMintFailed) as caught:
        runtime_of(app).get_token(ORG)

    assert not isinstance(caught.value, ConsentRevokedError)
    assert caught.value.code == "invalid_org"
    assert_not_revoked(app, revocations)


@pytest.mark.parametrize("status", [400, 401])
def test_invalid_request_never_revokes(
    seeded_app: AppBuilder,
    local_ims: LocalIMS,
    revocations: list[dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
    status: int,
) -> None:
    app = seeded_app()
    # fail_next returns a 4xx with the OAuth error invalid_request by default.
    local_ims.fail_next(2, status=status)

    with app.app_context(), pytest.raises(ConfigurationError) as caught:
        runtime_of(app).get_token(ORG)

    assert caught.value.code == "invalid_request"
    assert local_ims.token_requests(ORG) == 1
    assert any(record.levelname == "ERROR" for record in caplog.records)
    assert_not_revoked(app, revocations)


def test_listed_invalid_request_revokes(
    seeded_app: AppBuilder, local_ims: LocalIMS, revocations: list[dict[str, Any]]
) -> None:
    app = seeded_app(ADOBE_ADMIN_AUTH_ORG_REJECTION_ERRORS=["invalid_request"])
    local_ims.revoke(ORG)
    local_ims.revoked_org_response = (400, "invalid_request")

    with app.app_context(), pytest.raises(ConsentRevokedError):
        runtime_of(app).get_token(ORG)

    assert local_ims.token_requests(ORG) == 1
    assert_revoked_once(app, revocations)


def test_wrong_token_url_never_revokes(
    seeded_app: AppBuilder, local_ims: LocalIMS, revocations: list[dict[str, Any]]
) -> None:
    app = seeded_app(ADOBE_ADMIN_AUTH_TOKEN_URL=local_ims.base_url + "/no/such/endpoint")

    with app.app_context(), pytest.raises(ConfigurationError):
        runtime_of(app).get_token(ORG)

    assert_not_revoked(app, revocations)


def test_rejection_without_oauth_body_never_revokes(
    seeded_app: AppBuilder, local_ims: LocalIMS, revocations: list[dict[str, Any]]
) -> None:
    app = seeded_app()
    local_ims.fail_next(2, status=403, body="<html>Forbidden by proxy</html>")

    with app.app_context(), pytest.raises(TokenMintFailed):
        runtime_of(app).get_token(ORG)

    assert local_ims.token_requests(ORG) == 1
    assert_not_revoked(app, revocations)


def test_invalid_scope_is_configuration_error(
    seeded_app: AppBuilder,
    local_ims: LocalIMS,
    revocations: list[dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = seeded_app(ADOBE_ADMIN_AUTH_SCOPES=["openid", "not_granted"])

    with app.app_context(), pytest.raises(ConfigurationError) as caught:
        runtime_of(app).get_token(ORG)

    assert caught.value.code == "invalid_scope"
    assert any(record.levelname == "ERROR" for record in caplog.records)
    assert_not_revoked(app, revocations)


def test_wrong_secret_is_configuration_error(
    seeded_app: AppBuilder,
    local_ims: LocalIMS,
    revocations: list[dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = seeded_app(
        ADOBE_ADMIN_AUTH_CLIENT_SECRET=None,
        ADOBE_ADMIN_AUTH_CLIENT_SECRETS=["wrong-one", "wrong-two"],
    )

    with app.app_context(), pytest.raises(ConfigurationError) as caught:
        runtime_of(app).get_token(ORG)

    assert caught.value.code == "invalid_client"
    assert local_ims.token_requests(ORG) == 2
    assert "rejected every configured client secret" in caplog.text
    assert "wrong-one" not in caplog.text
    assert "wrong-two" not in caplog.text
    assert_not_revoked(app, revocations)


def test_second_secret_used_and_logged(
    seeded_app: AppBuilder, local_ims: LocalIMS, caplog: pytest.LogCaptureFixture
) -> None:
    app = seeded_app(
        ADOBE_ADMIN_AUTH_CLIENT_SECRET=None,
        ADOBE_ADMIN_AUTH_CLIENT_SECRETS=["wrong-one", SECRET],
    )

    with app.app_context():
        first = runtime_of(app).get_token(ORG)
        runtime_of(app).tokens.invalidate(ORG)
        runtime_of(app).get_token(ORG)

    assert first.org_id == ORG
    # Two requests for the first mint, then the working secret comes first.
    assert local_ims.token_requests(ORG) == 3
    assert "Client secret 2 of 2" in caplog.text
    assert SECRET not in caplog.text
    assert "wrong-one" not in caplog.text


def test_debug_id_logged_without_secrets(
    seeded_app: AppBuilder, local_ims: LocalIMS, caplog: pytest.LogCaptureFixture
) -> None:
    app = seeded_app()
    local_ims.fail_next(status=503, headers={"x-debug-id": "debug-1234"})

    with app.app_context():
        token = runtime_of(app).get_token(ORG)

    assert "x-debug-id debug-1234" in caplog.text
    assert token.access_token not in caplog.text
    assert SECRET not in caplog.text
    assert not re.search(r"Bearer \S", caplog.text)
