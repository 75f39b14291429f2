"""Failures queued with LocalIMS.fail_next."""

from __future__ import annotations

import time

import pytest
import requests

from flask_adobe_admin_auth.testing import LocalIMS

ORG_ID = "0123456789ABCDEF01234567@AdobeOrg"


def request_token(ims: LocalIMS) -> requests.Response:
    form = {
        "grant_type": "client_credentials",
        "client_id": ims.client_id,
        "client_secret": ims.client_secrets[0],
        "scope": "openid",
        "org_id": ORG_ID,
    }
    return requests.post(f"{ims.base_url}/ims/token/v3", data=form, timeout=5)


def test_default_fault_is_503(local_ims: LocalIMS) -> None:
    local_ims.grant_consent(ORG_ID)
    local_ims.fail_next(1)

    response = request_token(local_ims)

    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"
    assert "x-debug-id" in response.headers
    assert request_token(local_ims).status_code == 200


def test_count_of_faults(local_ims: LocalIMS) -> None:
    local_ims.grant_consent(ORG_ID)
    local_ims.fail_next(2, status=500)

    statuses = [request_token(local_ims).status_code for _ in range(3)]

    assert statuses == [500, 500, 200]
    assert local_ims.token_requests(ORG_ID) == 3


def test_internal_error_body(local_ims: LocalIMS) -> None:
    local_ims.fail_next(1, status=500)

    assert request_token(local_ims).json()["error"] == "internal_error"


def test_faults_queue_in_order(local_ims: LocalIMS) -> None:
    local_ims.grant_consent(ORG_ID)
    local_ims.fail_next(1, status=429, headers={"Retry-After": "1"})
    local_ims.fail_next(1, status=502)

    first = request_token(local_ims)
    second = request_token(local_ims)
    third = request_token(local_ims)

    assert first.status_code == 429
    assert first.headers["Retry-After"] == "1"
    assert first.json()["error"] == "too_many_requests"
    assert second.status_code == 502
    assert "Retry-After" not in second.headers
    assert third.status_code == 200


def test_delay_then_status(local_ims: LocalIMS) -> None:
    local_ims.fail_next(1, status=504, delay=0.2)

    started = time.monotonic()
    response = request_token(local_ims)

    assert time.monotonic() - started >= 0.2
    assert response.status_code == 504


def test_delay_then_normal_answer(local_ims: LocalIMS) -> None:
    local_ims.grant_consent(ORG_ID)
    local_ims.fail_next(1, status=None, delay=0.2)

    started = time.monotonic()
    response = request_token(local_ims)

    assert time.monotonic() - started >= 0.2
    assert response.status_code == 200


def test_delay_causes_client_timeout(local_ims: LocalIMS) -> None:
    local_ims.fail_next(1, endpoint="jwks", status=None, delay=0.4)

    with pytest.raises(requests.Timeout):
        requests.get(f"{local_ims.base_url}/ims/keys", timeout=0.1)


def test_custom_body_and_headers(local_ims: LocalIMS) -> None:
    local_ims.fail_next(
        1, status=400, body={"error": "invalid_org"}, headers={"x-debug-id": "dbg-1"}
    )

    response = request_token(local_ims)

    assert response.json() == {"error": "invalid_org"}
    assert response.headers["x-debug-id"] == "dbg-1"


def test_text_body(local_ims: LocalIMS) -> None:
    local_ims.fail_next(
        1, status=502, body="<html>Bad gateway</html>", headers={"Content-Type": "text/html"}
    )

    response = request_token(local_ims)

    assert response.status_code == 502
    assert response.text == "<html>Bad gateway</html>"
    assert response.headers["Content-Type"] == "text/html"


def test_jwks_fault(local_ims: LocalIMS) -> None:
    local_ims.fail_next(1, endpoint="jwks", status=500)

    first = requests.get(f"{local_ims.base_url}/ims/keys", timeout=5)
    second = requests.get(f"{local_ims.base_url}/ims/keys", timeout=5)

    assert first.status_code == 500
    assert second.status_code == 200
    assert local_ims.jwks_requests() == 2


def test_consent_fault(local_ims: LocalIMS) -> None:
    local_ims.fail_next(1, endpoint="consent", status=503)

    response = requests.get(f"{local_ims.base_url}/consent", timeout=5)

    assert response.status_code == 503
    assert local_ims.consent_requests() == 1


def test_demo_fault_is_gateway_shaped(local_ims: LocalIMS) -> None:
    local_ims.fail_next(1, endpoint="demo", status=429, headers={"Retry-After": "3"})

    response = requests.get(f"{local_ims.demo_api_url}/organization", timeout=5)

    assert response.status_code == 429
    assert response.json()["error_code"] == "429050"
    assert response.headers["Retry-After"] == "3"
    assert local_ims.demo_requests() == 1


def test_faults_are_per_endpoint(local_ims: LocalIMS) -> None:
    local_ims.grant_consent(ORG_ID)
    local_ims.fail_next(1, endpoint="jwks")

    assert request_token(local_ims).status_code == 200
    assert requests.get(f"{local_ims.base_url}/ims/keys", timeout=5).status_code == 503


def test_reset_clears_faults(local_ims: LocalIMS) -> None:
    local_ims.fail_next(5)

    local_ims.reset()
    local_ims.grant_consent(ORG_ID)

    assert request_token(local_ims).status_code == 200


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"endpoint": "userinfo"}, "endpoint must be one of"),
        ({"count": 0}, "count must be at least 1"),
        ({"delay": -1.0}, "delay must not be negative"),
        ({"status": 42}, "status must be an HTTP status code"),
    ],
)
def test_invalid_arguments(local_ims: LocalIMS, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        local_ims.fail_next(**kwargs)  # type: ignore[arg-type]
