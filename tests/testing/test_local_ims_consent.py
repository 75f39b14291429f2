"""Consent redirects of LocalIMS in the automatic decision modes."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from flask_adobe_admin_auth.testing import LocalIMS

ORG_ID = "0123456789ABCDEF01234567@AdobeOrg"
CALLBACK = "http://127.0.0.1:5000/adobe/callback"


def consent_params(ims: LocalIMS, **overrides: str | None) -> dict[str, str]:
    params: dict[str, str | None] = {
        "client_id": ims.client_id,
        "scope": "openid,AdobeID,read_organizations",
        "state": "state-1",
        "nonce": "nonce-1",
        "redirect_uri": CALLBACK,
        **overrides,
    }
    return {name: value for name, value in params.items() if value is not None}


def request_consent(ims: LocalIMS, **overrides: str | None) -> requests.Response:
    return requests.get(
        f"{ims.base_url}/consent",
        params=consent_params(ims, **overrides),
        allow_redirects=False,
        timeout=5,
    )


def redirect_query(response: requests.Response) -> tuple[str, dict[str, list[str]]]:
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["Location"])
    return location._replace(query="").geturl(), parse_qs(location.query)


def test_auto_approve_redirects_with_id_token(local_ims: LocalIMS) -> None:
    local_ims.auto_approve(ORG_ID)

    target, query = redirect_query(request_consent(local_ims))

    assert target == CALLBACK
    assert query["state"] == ["state-1"]
    assert query["admin_consent"] == ["true"]
    assert len(query["id_token"]) == 1
    assert "error" not in query


def test_auto_approve_records_consent(local_ims: LocalIMS) -> None:
    local_ims.auto_approve(ORG_ID, technical_account_id="TECH@techacct.adobe.com")

    request_consent(local_ims)

    assert local_ims.consented_orgs() == {ORG_ID: "TECH@techacct.adobe.com"}


def test_approve_after_revoke_restores_consent(local_ims: LocalIMS) -> None:
    first_account = local_ims.grant_consent(ORG_ID)
    local_ims.revoke(ORG_ID)
    assert local_ims.is_revoked(ORG_ID)
    local_ims.auto_approve(ORG_ID)

    request_consent(local_ims)

    assert not local_ims.is_revoked(ORG_ID)
    assert ORG_ID in local_ims.consented_orgs()
    assert local_ims.consented_orgs()[ORG_ID] != first_account


def test_auto_cancel_redirects_without_token(local_ims: LocalIMS) -> None:
    local_ims.auto_cancel()

    _, query = redirect_query(request_consent(local_ims))

    assert query == {"state": ["state-1"], "admin_consent": ["false"]}
    assert local_ims.consented_orgs() == {}


@pytest.mark.parametrize("code", ["insufficient_privilege", "error", "some_new_code"])
def test_auto_error_redirects_with_code(local_ims: LocalIMS, code: str) -> None:
    local_ims.auto_error(code)

    _, query = redirect_query(request_consent(local_ims))

    assert query == {"state": ["state-1"], "error": [code]}


def test_auto_error_rejects_empty_code(local_ims: LocalIMS) -> None:
    with pytest.raises(ValueError, match="non-empty"):
        local_ims.auto_error("")


def test_missing_state_is_reported(local_ims: LocalIMS) -> None:
    local_ims.auto_approve(ORG_ID)

    _, query = redirect_query(request_consent(local_ims, state=None))

    assert query == {"error": ["missing_state_param"]}


@pytest.mark.parametrize("scope", ["openid,write_everything", "", "openid AdobeID"])
def test_scope_outside_credential_is_invalid(local_ims: LocalIMS, scope: str) -> None:
    local_ims.auto_approve(ORG_ID)

    _, query = redirect_query(request_consent(local_ims, scope=scope))

    assert query == {"state": ["state-1"], "error": ["invalid_scopes"]}


@pytest.mark.parametrize("scope", ["openid", "openid, AdobeID", "openid,,read_organizations"])
def test_scope_subset_is_accepted(local_ims: LocalIMS, scope: str) -> None:
    local_ims.auto_approve(ORG_ID)

    _, query = redirect_query(request_consent(local_ims, scope=scope))

    assert query["admin_consent"] == ["true"]


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example/callback",
        "http://user@127.0.0.1/callback",
        "javascript:alert(1)",
        "http://127.0.0.1.evil.example/callback",
    ],
)
def test_foreign_redirect_uri_is_rejected(local_ims: LocalIMS, redirect_uri: str) -> None:
    local_ims.auto_approve(ORG_ID)

    response = request_consent(local_ims, redirect_uri=redirect_uri)

    assert response.status_code == 400
    assert "Invalid redirect_uri" in response.text
    assert "Location" not in response.headers
    assert local_ims.consented_orgs() == {}


@pytest.mark.parametrize(
    "redirect_uri",
    ["http://localhost:8000/cb", "https://127.0.0.1/cb?x=1", "http://[::1]:5000/cb"],
)
def test_loopback_redirect_uri_is_accepted(local_ims: LocalIMS, redirect_uri: str) -> None:
    assert local_ims.accepts_redirect_uri(redirect_uri)


def test_redirect_keeps_existing_query(local_ims: LocalIMS) -> None:
    local_ims.auto_cancel()

    response = request_consent(local_ims, redirect_uri="http://localhost:8000/cb?tenant=a")

    _, query = redirect_query(response)
    assert query == {"tenant": ["a"], "state": ["state-1"], "admin_consent": ["false"]}


def test_unknown_client_id_gets_error_page(local_ims: LocalIMS) -> None:
    local_ims.auto_approve(ORG_ID)

    response = request_consent(local_ims, client_id="<b>other</b>")

    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/html")
    assert "Location" not in response.headers
    assert "&lt;b&gt;other&lt;/b&gt;" in response.text
    assert "<b>other</b>" not in response.text


def test_missing_redirect_uri_without_default(local_ims: LocalIMS) -> None:
    local_ims.auto_approve(ORG_ID)

    response = request_consent(local_ims, redirect_uri=None)

    assert response.status_code == 400
    assert "default_redirect_uri" in response.text


def test_record_of_last_consent_request(local_ims: LocalIMS) -> None:
    assert local_ims.last_consent_request() is None
    local_ims.auto_cancel()

    request_consent(local_ims, state="abc")

    assert local_ims.last_consent_request() == consent_params(local_ims, state="abc")
    assert local_ims.consent_requests() == 1


def test_default_redirect_uri_and_error_target() -> None:
    default = "https://localhost:8443/default"
    patterns = [r"https://app\.localhost/adobe/callback"]
    with LocalIMS(default_redirect_uri=default, redirect_uri_patterns=patterns) as ims:
        ims.auto_cancel()
        target, query = redirect_query(request_consent(ims, redirect_uri=None))
        assert target == default
        assert query["admin_consent"] == ["false"]

        target, query = redirect_query(
            request_consent(ims, redirect_uri="https://app.localhost/adobe/callback")
        )
        assert target == "https://app.localhost/adobe/callback"

        # Adobe sends errors to the default redirect URI, whatever the request contains.
        ims.auto_error("insufficient_privilege")
        target, query = redirect_query(
            request_consent(ims, redirect_uri="https://app.localhost/adobe/callback")
        )
        assert target == default
        assert query["error"] == ["insufficient_privilege"]

        target, query = redirect_query(request_consent(ims, redirect_uri=CALLBACK))
        assert target == default
        assert query == {"state": ["state-1"], "error": ["invalid_redirect_uri"]}
