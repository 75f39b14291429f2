"""The LocalIMS token endpoint (client credentials grant)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from flask_adobe_admin_auth.testing import LocalIMS

ORG_ID = "0123456789ABCDEF01234567@AdobeOrg"
OTHER_ORG_ID = "89ABCDEF0123456789ABCDEF@AdobeOrg"


def token_form(ims: LocalIMS, **overrides: str | None) -> dict[str, str]:
    form: dict[str, str | None] = {
        "grant_type": "client_credentials",
        "client_id": ims.client_id,
        "client_secret": ims.client_secrets[0],
        "scope": "openid,AdobeID,read_organizations",
        "org_id": ORG_ID,
        **overrides,
    }
    return {name: value for name, value in form.items() if value is not None}


def request_token(ims: LocalIMS, **overrides: str | None) -> requests.Response:
    return requests.post(
        f"{ims.base_url}/ims/token/v3", data=token_form(ims, **overrides), timeout=5
    )


def assert_oauth_error(response: requests.Response, status: int, error: str) -> None:
    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.json()["error_description"]
    assert len(response.headers["x-debug-id"]) == 32


def test_token_success(local_ims: LocalIMS) -> None:
    local_ims.grant_consent(ORG_ID)

    response = request_token(local_ims)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 86399
    assert body["access_token"].count(".") == 2
    assert response.headers["Cache-Control"] == "no-store"


def test_tokens_are_unique(local_ims: LocalIMS) -> None:
    local_ims.grant_consent(ORG_ID)

    first = request_token(local_ims).json()["access_token"]
    second = request_token(local_ims).json()["access_token"]

    assert first != second


def test_second_client_secret_is_accepted() -> None:
    with LocalIMS(client_secrets=("old-secret", "new-secret")) as ims:
        ims.grant_consent(ORG_ID)

        assert request_token(ims, client_secret="old-secret").status_code == 200
        assert request_token(ims, client_secret="new-secret").status_code == 200
        assert ims.config()["ADOBE_ADMIN_AUTH_CLIENT_SECRET"] == "old-secret"


def test_multipart_form_is_accepted(local_ims: LocalIMS) -> None:
    local_ims.grant_consent(ORG_ID)
    files = {name: (None, value) for name, value in token_form(local_ims).items()}

    response = requests.post(f"{local_ims.base_url}/ims/token/v3", files=files, timeout=5)

    assert response.status_code == 200


def test_expires_in_as_string(local_ims: LocalIMS) -> None:
    local_ims.grant_consent(ORG_ID)
    local_ims.expires_in_as_string = True

    assert request_token(local_ims).json()["expires_in"] == "86399"

    local_ims.reset()
    local_ims.grant_consent(ORG_ID)
    assert request_token(local_ims).json()["expires_in"] == 86399


def test_token_lifetime_setting() -> None:
    with LocalIMS(token_lifetime=3599) as ims:
        ims.grant_consent(ORG_ID)

        assert request_token(ims).json()["expires_in"] == 3599


@pytest.mark.parametrize("client_id", ["other-client", "", None])
def test_unknown_client_id(local_ims: LocalIMS, client_id: str | None) -> None:
    local_ims.grant_consent(ORG_ID)

    response = request_token(local_ims, client_id=client_id)

    assert_oauth_error(response, 400, "invalid_client")
    assert response.json()["error_description"] == "invalid client_id parameter"


@pytest.mark.parametrize("client_secret", ["wrong", "", None])
def test_wrong_client_secret(local_ims: LocalIMS, client_secret: str | None) -> None:
    local_ims.grant_consent(ORG_ID)

    response = request_token(local_ims, client_secret=client_secret)

    assert_oauth_error(response, 400, "invalid_client")
    assert response.json()["error_description"] == "invalid client_secret parameter"


def test_basic_auth_alone_is_rejected(local_ims: LocalIMS) -> None:
    local_ims.grant_consent(ORG_ID)
    form = token_form(local_ims, client_id=None, client_secret=None)

    response = requests.post(
        f"{local_ims.base_url}/ims/token/v3",
        data=form,
        auth=(local_ims.client_id, local_ims.client_secrets[0]),
        timeout=5,
    )

    assert_oauth_error(response, 400, "invalid_client")


def test_query_string_credentials_are_ignored(local_ims: LocalIMS) -> None:
    local_ims.grant_consent(ORG_ID)

    response = requests.post(
        f"{local_ims.base_url}/ims/token/v3", params=token_form(local_ims), timeout=5
    )

    assert_oauth_error(response, 400, "unsupported_grant_type")


def test_wrong_grant_type(local_ims: LocalIMS) -> None:
    local_ims.grant_consent(ORG_ID)

    response = request_token(local_ims, grant_type="authorization_code")

    assert_oauth_error(response, 400, "unsupported_grant_type")


@pytest.mark.parametrize("scope", ["openid,write_everything", "", None])
def test_scope_outside_credential(local_ims: LocalIMS, scope: str | None) -> None:
    local_ims.grant_consent(ORG_ID)

    response = request_token(local_ims, scope=scope)

    assert_oauth_error(response, 400, "invalid_scope")


@pytest.mark.parametrize("org_id", [OTHER_ORG_ID, "", None])
def test_org_without_consent(local_ims: LocalIMS, org_id: str | None) -> None:
    local_ims.grant_consent(ORG_ID)

    response = request_token(local_ims, org_id=org_id)

    assert_oauth_error(response, 400, "invalid_org")


def test_revoked_org(local_ims: LocalIMS) -> None:
    local_ims.grant_consent(ORG_ID)
    assert request_token(local_ims).status_code == 200

    local_ims.revoke(ORG_ID)

    response = request_token(local_ims)
    assert_oauth_error(response, 400, "invalid_org")
    assert "revoked" in response.json()["error_description"]
    assert local_ims.consented_orgs() == {}


def test_revoked_org_response_setting(local_ims: LocalIMS) -> None:
    local_ims.revoked_org_response = (401, "invalid_token")

    response = request_token(local_ims)

    assert_oauth_error(response, 401, "invalid_token")


def test_grant_again_after_revoke(local_ims: LocalIMS) -> None:
    local_ims.grant_consent(ORG_ID)
    local_ims.revoke(ORG_ID)

    local_ims.grant_consent(ORG_ID)

    assert request_token(local_ims).status_code == 200
    assert not local_ims.is_revoked(ORG_ID)


def test_counters_per_org(local_ims: LocalIMS) -> None:
    local_ims.grant_consent(ORG_ID)

    request_token(local_ims)
    request_token(local_ims)
    request_token(local_ims, org_id=OTHER_ORG_ID)
    request_token(local_ims, org_id=None)

    assert local_ims.token_requests(ORG_ID) == 2
    assert local_ims.token_requests(OTHER_ORG_ID) == 1
    assert local_ims.token_requests("") == 1
    assert local_ims.token_requests() == 4

    local_ims.reset_counters()
    assert local_ims.token_requests() == 0


def test_concurrent_requests_are_counted(local_ims: LocalIMS) -> None:
    local_ims.grant_consent(ORG_ID)

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: request_token(local_ims).status_code, range(24)))

    assert statuses == [200] * 24
    assert local_ims.token_requests(ORG_ID) == 24


def test_get_is_not_allowed(local_ims: LocalIMS) -> None:
    response = requests.get(f"{local_ims.base_url}/ims/token/v3", timeout=5)

    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"
    assert response.headers["Allow"] == "POST"
