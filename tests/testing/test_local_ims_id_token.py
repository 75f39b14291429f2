"""id_tokens from the LocalIMS consent redirect, verified against the served JWKS."""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError

from flask_adobe_admin_auth.testing import LocalIMS

from .helpers import IMS_REGISTRY, ORG_ID, fetch_key_set

CALLBACK = "http://127.0.0.1:5000/adobe/callback"


def consent_id_token(ims: LocalIMS, nonce: str = "nonce-1") -> str:
    params = {
        "client_id": ims.client_id,
        "scope": "openid,AdobeID",
        "state": "state-1",
        "nonce": nonce,
        "redirect_uri": CALLBACK,
    }
    response = requests.get(
        f"{ims.base_url}/consent", params=params, allow_redirects=False, timeout=5
    )
    assert response.status_code == 302
    return parse_qs(urlsplit(response.headers["Location"]).query)["id_token"][0]


def decode_segment(token: str, index: int) -> dict[str, Any]:
    segment = token.split(".")[index]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return decoded


def test_id_token_verifies_with_served_jwks(local_ims: LocalIMS) -> None:
    local_ims.auto_approve(ORG_ID)
    id_token = consent_id_token(local_ims)

    token = jwt.decode(
        id_token, fetch_key_set(local_ims), algorithms=["RS256"], registry=IMS_REGISTRY
    )

    assert token.header["alg"] == "RS256"
    assert token.claims["orgId"] == ORG_ID


def test_id_token_header_layout(local_ims: LocalIMS) -> None:
    local_ims.auto_approve(ORG_ID)

    raw_header = base64.urlsafe_b64decode(consent_id_token(local_ims).split(".")[0] + "==")

    kid = local_ims.current_kid
    assert json.loads(raw_header) == {"alg": "RS256", "x5u": f"{kid}.cer", "kid": kid, "itt": "id"}
    assert list(json.loads(raw_header)) == ["alg", "x5u", "kid", "itt"]
    assert kid.startswith("ims_na1-key-")


def test_id_token_claims(local_ims: LocalIMS) -> None:
    local_ims.auto_approve(ORG_ID, technical_account_id="TECH@techacct.adobe.com")
    before = int(time.time())

    claims = decode_segment(consent_id_token(local_ims, nonce="n-42"), 1)

    assert set(claims) == {"iss", "sub", "aud", "exp", "iat", "nonce", "orgId"}
    assert claims["iss"] == f"{local_ims.base_url}/ims"
    assert claims["iss"] == local_ims.config()["ADOBE_ADMIN_AUTH_ISSUER"]
    assert claims["sub"] == "TECH@techacct.adobe.com"
    assert claims["aud"] == local_ims.client_id
    assert claims["nonce"] == "n-42"
    assert isinstance(claims["iat"], int)
    assert before <= claims["iat"] <= int(time.time())
    assert claims["exp"] == claims["iat"] + 24 * 3600


def test_sub_is_consent_technical_account(local_ims: LocalIMS) -> None:
    local_ims.auto_approve(ORG_ID)

    claims = decode_segment(consent_id_token(local_ims), 1)

    assert claims["sub"] == local_ims.consented_orgs()[ORG_ID]
    assert claims["sub"].endswith("@techacct.adobe.com")


@pytest.mark.parametrize(
    ("org_claim", "expected"),
    [
        ("orgId", {"orgId": ORG_ID}),
        ("org_id", {"org_id": ORG_ID}),
        ("both", {"orgId": ORG_ID, "org_id": ORG_ID}),
    ],
)
def test_org_claim_variants(local_ims: LocalIMS, org_claim: Any, expected: dict[str, str]) -> None:
    local_ims.auto_approve(ORG_ID, org_claim=org_claim)

    claims = decode_segment(consent_id_token(local_ims), 1)

    assert {name: claims[name] for name in ("orgId", "org_id") if name in claims} == expected


def test_org_claim_rejects_other_names(local_ims: LocalIMS) -> None:
    with pytest.raises(ValueError, match="org_claim"):
        local_ims.auto_approve(ORG_ID, org_claim="orgid")  # type: ignore[arg-type]


def test_claim_and_header_overrides(local_ims: LocalIMS) -> None:
    local_ims.auto_approve(
        ORG_ID,
        org_claim="both",
        claims={"org_id": "OTHER@AdobeOrg", "nonce": None, "extra": 1},
        header={"itt": None, "typ": "JWT"},
    )
    id_token = consent_id_token(local_ims)

    header = decode_segment(id_token, 0)
    claims = decode_segment(id_token, 1)
    assert claims["org_id"] == "OTHER@AdobeOrg"
    assert claims["orgId"] == ORG_ID
    assert "nonce" not in claims
    assert claims["extra"] == 1
    assert "itt" not in header
    assert header["typ"] == "JWT"


def test_missing_nonce_gives_token_without_nonce(local_ims: LocalIMS) -> None:
    local_ims.auto_approve(ORG_ID)

    claims = decode_segment(consent_id_token(local_ims, nonce=""), 1)

    assert "nonce" not in claims


def test_custom_issuer_and_clock() -> None:
    with LocalIMS(
        issuer="https://ims-na1.adobelogin.com/ims", clock=lambda: 1_700_000_000.5
    ) as ims:
        ims.auto_approve(ORG_ID)

        claims = decode_segment(consent_id_token(ims), 1)

        assert claims["iss"] == "https://ims-na1.adobelogin.com/ims"
        assert ims.config()["ADOBE_ADMIN_AUTH_ISSUER"] == "https://ims-na1.adobelogin.com/ims"
        assert claims["iat"] == 1_700_000_000
        assert claims["exp"] == 1_700_000_000 + 24 * 3600


def test_reset_with_new_keys_drops_old_kid(local_ims: LocalIMS) -> None:
    local_ims.auto_approve(ORG_ID)
    id_token = consent_id_token(local_ims)

    local_ims.reset(new_keys=True)

    with pytest.raises(InvalidKeyIdError):
        jwt.decode(id_token, fetch_key_set(local_ims), algorithms=["RS256"], registry=IMS_REGISTRY)
