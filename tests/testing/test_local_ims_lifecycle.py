"""Starting and stopping LocalIMS, its settings, routing and pytest fixtures."""

from __future__ import annotations

import pytest
import requests

from flask_adobe_admin_auth.testing import LocalIMS


def test_base_url_before_start() -> None:
    ims = LocalIMS()

    with pytest.raises(RuntimeError, match="call start"):
        _ = ims.base_url
    assert not ims.running
    assert "not running" in repr(ims)


def test_start_and_stop() -> None:
    ims = LocalIMS().start()
    try:
        base_url = ims.base_url
        assert base_url.startswith("http://127.0.0.1:")
        assert requests.get(f"{base_url}/ims/keys", timeout=5).status_code == 200
    finally:
        ims.stop()

    assert not ims.running
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base_url}/ims/keys", timeout=5)
    ims.stop()


def test_start_twice_fails() -> None:
    with LocalIMS() as ims, pytest.raises(RuntimeError, match="already running"):
        ims.start()


def test_restart_after_stop() -> None:
    ims = LocalIMS()
    with ims:
        pass

    with ims:
        assert requests.get(f"{ims.base_url}/ims/keys", timeout=5).status_code == 200


def test_config_points_at_server(local_ims: LocalIMS) -> None:
    base = local_ims.base_url

    assert local_ims.config() == {
        "ADOBE_ADMIN_AUTH_CLIENT_ID": "local-client-id",
        "ADOBE_ADMIN_AUTH_CLIENT_SECRET": "local-client-secret",
        "ADOBE_ADMIN_AUTH_SCOPES": ["openid", "AdobeID", "read_organizations"],
        "ADOBE_ADMIN_AUTH_CONSENT_URL": f"{base}/consent",
        "ADOBE_ADMIN_AUTH_TOKEN_URL": f"{base}/ims/token/v3",
        "ADOBE_ADMIN_AUTH_JWKS_URL": f"{base}/ims/keys",
        "ADOBE_ADMIN_AUTH_ISSUER": f"{base}/ims",
    }


def test_config_fixture(local_ims: LocalIMS, local_ims_config: dict[str, object]) -> None:
    assert local_ims_config == local_ims.config()


def test_session_server_is_shared(local_ims_server: LocalIMS, local_ims: LocalIMS) -> None:
    assert local_ims is local_ims_server
    assert local_ims.running


def test_reset_restores_defaults(local_ims: LocalIMS) -> None:
    local_ims.grant_consent("A@AdobeOrg")
    local_ims.auto_cancel()
    local_ims.fail_next(3)
    local_ims.expires_in_as_string = True
    local_ims.revoked_org_response = (401, "invalid_token")

    local_ims.reset()

    assert local_ims.consented_orgs() == {}
    assert local_ims.token_requests() == 0
    assert not local_ims.expires_in_as_string
    assert local_ims.revoked_org_response == (400, "invalid_org")
    consent = requests.get(
        f"{local_ims.base_url}/consent",
        params={
            "client_id": local_ims.client_id,
            "scope": "openid",
            "state": "s",
            "nonce": "n",
            "redirect_uri": "http://127.0.0.1/cb",
        },
        allow_redirects=False,
        timeout=5,
    )
    assert consent.status_code == 200
    token = requests.post(f"{local_ims.base_url}/ims/token/v3", data={}, timeout=5)
    assert token.json()["error"] == "unsupported_grant_type"


def test_unknown_path_is_json_404(local_ims: LocalIMS) -> None:
    response = requests.get(f"{local_ims.base_url}/ims/userinfo", timeout=5)

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"client_secrets": "secret"}, TypeError),
        ({"client_secrets": ()}, ValueError),
        ({"scopes": "openid"}, TypeError),
        ({"token_lifetime": 0}, ValueError),
    ],
)
def test_invalid_settings(kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        LocalIMS(**kwargs)  # type: ignore[arg-type]


def test_custom_orgs_and_client() -> None:
    with LocalIMS(client_id="my-app", scopes=["openid"], orgs={"A@AdobeOrg": "A"}) as ims:
        assert ims.config()["ADOBE_ADMIN_AUTH_CLIENT_ID"] == "my-app"
        assert ims.config()["ADOBE_ADMIN_AUTH_SCOPES"] == ["openid"]
        assert ims.orgs == {"A@AdobeOrg": "A"}
