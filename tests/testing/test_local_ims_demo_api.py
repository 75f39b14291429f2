"""The LocalIMS demo API that accepts minted access tokens."""

from __future__ import annotations

import requests

from flask_adobe_admin_auth.testing import LocalIMS

ORG_ID = "0123456789ABCDEF01234567@AdobeOrg"
OTHER_ORG_ID = "89ABCDEF0123456789ABCDEF@AdobeOrg"


class MovableClock:
    """A clock that tests move forward instead of sleeping."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def mint(ims: LocalIMS, org_id: str = ORG_ID) -> str:
    form = {
        "grant_type": "client_credentials",
        "client_id": ims.client_id,
        "client_secret": ims.client_secrets[0],
        "scope": "openid,AdobeID",
        "org_id": org_id,
    }
    response = requests.post(f"{ims.base_url}/ims/token/v3", data=form, timeout=5)
    assert response.status_code == 200, response.text
    access_token: str = response.json()["access_token"]
    return access_token


def call_demo(
    ims: LocalIMS,
    access_token: str,
    *,
    api_key: str | None = None,
    org_id: str = ORG_ID,
    scheme: str = "Bearer",
) -> requests.Response:
    headers = {
        "Authorization": f"{scheme} {access_token}",
        "x-api-key": ims.client_id if api_key is None else api_key,
        "x-gw-ims-org-id": org_id,
    }
    return requests.get(f"{ims.demo_api_url}/organization", headers=headers, timeout=5)


def assert_gateway_error(response: requests.Response, status: int, error_code: str) -> None:
    assert response.status_code == status
    assert response.json()["error_code"] == error_code
    assert response.json()["message"]


def test_demo_returns_org(local_ims: LocalIMS) -> None:
    account = local_ims.grant_consent(ORG_ID)

    response = call_demo(local_ims, mint(local_ims))

    assert response.status_code == 200
    body = response.json()
    assert body["org_id"] == ORG_ID
    assert body["name"] == "Example Company"
    assert body["technical_account_id"] == account
    assert isinstance(body["token_expires_at"], int)


def test_demo_url_in_base(local_ims: LocalIMS) -> None:
    assert local_ims.demo_api_url == f"{local_ims.base_url}/demo"


def test_missing_token(local_ims: LocalIMS) -> None:
    response = requests.get(f"{local_ims.demo_api_url}/organization", timeout=5)

    assert_gateway_error(response, 401, "401013")
    assert response.json()["message"] == "Oauth token is not valid"


def test_unknown_token(local_ims: LocalIMS) -> None:
    assert_gateway_error(call_demo(local_ims, "eyJ.not.minted"), 401, "401013")


def test_basic_scheme_is_rejected(local_ims: LocalIMS) -> None:
    local_ims.grant_consent(ORG_ID)

    response = call_demo(local_ims, mint(local_ims), scheme="Basic")

    assert_gateway_error(response, 401, "401013")


def test_wrong_api_key(local_ims: LocalIMS) -> None:
    local_ims.grant_consent(ORG_ID)

    response = call_demo(local_ims, mint(local_ims), api_key="other-client")

    assert_gateway_error(response, 403, "403003")


def test_org_mismatch(local_ims: LocalIMS) -> None:
    local_ims.grant_consent(ORG_ID)

    response = call_demo(local_ims, mint(local_ims), org_id=OTHER_ORG_ID)

    assert_gateway_error(response, 403, "403023")


def test_revoked_org_token_keeps_working(local_ims: LocalIMS) -> None:
    local_ims.grant_consent(ORG_ID)
    access_token = mint(local_ims)

    local_ims.revoke(ORG_ID)

    assert call_demo(local_ims, access_token).status_code == 200


def test_revoke_can_invalidate_tokens(local_ims: LocalIMS) -> None:
    local_ims.grant_consent(ORG_ID)
    local_ims.grant_consent(OTHER_ORG_ID)
    revoked_token = mint(local_ims)
    other_token = mint(local_ims, OTHER_ORG_ID)

    local_ims.revoke(ORG_ID, invalidate_tokens=True)

    assert_gateway_error(call_demo(local_ims, revoked_token), 401, "401013")
    assert call_demo(local_ims, other_token, org_id=OTHER_ORG_ID).status_code == 200


def test_expire_tokens_of_one_org(local_ims: LocalIMS) -> None:
    local_ims.grant_consent(ORG_ID)
    local_ims.grant_consent(OTHER_ORG_ID)
    expired = mint(local_ims)
    other_token = mint(local_ims, OTHER_ORG_ID)

    local_ims.expire_tokens(ORG_ID)

    assert_gateway_error(call_demo(local_ims, expired), 401, "401013")
    assert call_demo(local_ims, other_token, org_id=OTHER_ORG_ID).status_code == 200
    assert call_demo(local_ims, mint(local_ims)).status_code == 200


def test_expire_all_tokens(local_ims: LocalIMS) -> None:
    local_ims.grant_consent(ORG_ID)
    access_token = mint(local_ims)

    local_ims.expire_tokens()

    assert_gateway_error(call_demo(local_ims, access_token), 401, "401013")


def test_token_expires_with_clock() -> None:
    clock = MovableClock()
    with LocalIMS(token_lifetime=60, clock=clock) as ims:
        ims.grant_consent(ORG_ID)
        access_token = mint(ims)

        clock.now += 59
        response = call_demo(ims, access_token)
        assert response.status_code == 200
        assert response.json()["token_expires_at"] == 1_700_000_060

        clock.now += 1
        assert_gateway_error(call_demo(ims, access_token), 401, "401013")


def test_reset_forgets_tokens(local_ims: LocalIMS) -> None:
    local_ims.grant_consent(ORG_ID)
    access_token = mint(local_ims)

    local_ims.reset()

    assert_gateway_error(call_demo(local_ims, access_token), 401, "401013")
