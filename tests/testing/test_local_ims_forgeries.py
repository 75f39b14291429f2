"""Tokens minted with LocalIMS.make_id_token for hardening tests."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from joserfc import jwt
from joserfc.errors import BadSignatureError, InvalidKeyIdError, UnsupportedAlgorithmError
from joserfc.jwk import RSAKey

from flask_adobe_admin_auth.testing import LocalIMS

from .helpers import IMS_REGISTRY, ORG_ID, fetch_key_set


def decode_segment(token: str, index: int) -> dict[str, Any]:
    segment = token.split(".")[index]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    )
    return decoded


def verify(ims: LocalIMS, token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
        token, fetch_key_set(ims), algorithms=["RS256"], registry=IMS_REGISTRY
    ).claims
    return claims


def test_default_token_verifies(local_ims: LocalIMS) -> None:
    token = local_ims.make_id_token(org_id=ORG_ID, nonce="n")

    claims = verify(local_ims, token)

    assert claims["orgId"] == ORG_ID
    assert claims["nonce"] == "n"
    assert claims["aud"] == local_ims.client_id


def test_make_id_token_records_no_consent(local_ims: LocalIMS) -> None:
    local_ims.make_id_token(org_id=ORG_ID, nonce="n")

    assert local_ims.consented_orgs() == {}


@pytest.mark.parametrize(
    ("kwargs", "claim", "value"),
    [
        ({"aud": "other-client"}, "aud", "other-client"),
        ({"iss": "https://evil.example/ims"}, "iss", "https://evil.example/ims"),
        ({"sub": "X@techacct.adobe.com"}, "sub", "X@techacct.adobe.com"),
        ({"iat": 1000, "exp": 2000}, "exp", 2000),
        ({"iat": 4_000_000_000}, "iat", 4_000_000_000),
    ],
)
def test_claim_arguments_are_signed(
    local_ims: LocalIMS, kwargs: dict[str, Any], claim: str, value: object
) -> None:
    token = local_ims.make_id_token(org_id=ORG_ID, nonce="n", **kwargs)

    assert verify(local_ims, token)[claim] == value


def test_expiry_follows_iat(local_ims: LocalIMS) -> None:
    claims = decode_segment(local_ims.make_id_token(org_id=ORG_ID, nonce="n", iat=1000), 1)

    assert claims["exp"] == 1000 + 24 * 3600


def test_missing_kid(local_ims: LocalIMS) -> None:
    token = local_ims.make_id_token(org_id=ORG_ID, nonce="n", header={"kid": None})

    header = decode_segment(token, 0)
    assert "kid" not in header
    assert header["alg"] == "RS256"


def test_unknown_kid(local_ims: LocalIMS) -> None:
    token = local_ims.make_id_token(org_id=ORG_ID, nonce="n", header={"kid": "ims_na1-key-999"})

    with pytest.raises(InvalidKeyIdError):
        verify(local_ims, token)


def test_foreign_key_under_published_kid(local_ims: LocalIMS) -> None:
    foreign = RSAKey.generate_key(2048)

    token = local_ims.make_id_token(org_id=ORG_ID, nonce="n", key=foreign)

    assert decode_segment(token, 0)["kid"] == local_ims.current_kid
    with pytest.raises(BadSignatureError):
        verify(local_ims, token)


def test_foreign_key_keeps_its_kid(local_ims: LocalIMS) -> None:
    foreign = RSAKey.generate_key(2048, parameters={"kid": "attacker-key"})

    token = local_ims.make_id_token(org_id=ORG_ID, nonce="n", key=foreign)

    assert decode_segment(token, 0)["kid"] == "attacker-key"
    assert (
        jwt.decode(token, foreign, algorithms=["RS256"], registry=IMS_REGISTRY).claims["nonce"]
        == "n"
    )


def test_hs256_forgery_uses_public_key_pem(local_ims: LocalIMS) -> None:
    token = local_ims.make_id_token(org_id=ORG_ID, nonce="n", alg="HS256")

    header_segment, payload_segment, signature_segment = token.split(".")
    public_pem = RSAKey.import_key(fetch_key_set(local_ims).keys[0].as_dict()).as_pem(private=False)
    expected = hmac.new(
        public_pem, f"{header_segment}.{payload_segment}".encode(), hashlib.sha256
    ).digest()
    assert base64.urlsafe_b64decode(signature_segment + "=") == expected
    assert decode_segment(token, 0)["alg"] == "HS256"
    assert decode_segment(token, 0)["kid"] == local_ims.current_kid
    with pytest.raises(UnsupportedAlgorithmError):
        verify(local_ims, token)


def test_alg_none_is_unsigned(local_ims: LocalIMS) -> None:
    token = local_ims.make_id_token(org_id=ORG_ID, nonce="n", alg="none")

    assert token.endswith(".")
    assert token.count(".") == 2
    assert decode_segment(token, 0)["alg"] == "none"
    assert decode_segment(token, 1)["orgId"] == ORG_ID
    with pytest.raises(UnsupportedAlgorithmError):
        verify(local_ims, token)


def test_other_rsa_algorithm(local_ims: LocalIMS) -> None:
    token = local_ims.make_id_token(org_id=ORG_ID, nonce="n", alg="RS512")

    assert decode_segment(token, 0)["alg"] == "RS512"
    with pytest.raises(UnsupportedAlgorithmError):
        verify(local_ims, token)


def test_claim_removed_and_added(local_ims: LocalIMS) -> None:
    token = local_ims.make_id_token(
        org_id=ORG_ID, nonce="n", claims={"exp": None, "orgId": None, "exp_str": "1"}
    )

    claims = verify(local_ims, token)
    assert "exp" not in claims
    assert "orgId" not in claims
    assert claims["exp_str"] == "1"
