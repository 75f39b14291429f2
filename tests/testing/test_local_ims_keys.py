"""The LocalIMS key set and signing key rotation."""

from __future__ import annotations

import base64

import requests
from joserfc import jwt
from joserfc.jwk import KeySet

from flask_adobe_admin_auth.testing import LocalIMS

from .helpers import IMS_REGISTRY, ORG_ID


def served_jwks(ims: LocalIMS) -> requests.Response:
    response = requests.get(f"{ims.base_url}/ims/keys", timeout=5)
    assert response.status_code == 200
    return response


def served_kids(ims: LocalIMS) -> list[str]:
    return [key["kid"] for key in served_jwks(ims).json()["keys"]]


def test_jwks_key_shape(local_ims: LocalIMS) -> None:
    response = served_jwks(local_ims)

    keys = response.json()["keys"]
    assert len(keys) >= 1
    for key in keys:
        assert set(key) == {"alg", "kty", "use", "kid", "e", "n"}
        assert key["alg"] == "RS256"
        assert key["kty"] == "RSA"
        assert key["use"] == "sig"
        assert key["kid"].startswith("ims_na1-key-")
        modulus = base64.urlsafe_b64decode(key["n"] + "=" * (-len(key["n"]) % 4))
        assert len(modulus) * 8 == 2048


def test_jwks_headers(local_ims: LocalIMS) -> None:
    response = served_jwks(local_ims)

    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "public, max-age=3600"


def test_jwks_serves_no_private_parts(local_ims: LocalIMS) -> None:
    for key in served_jwks(local_ims).json()["keys"]:
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)


def test_jwks_counter(local_ims: LocalIMS) -> None:
    served_jwks(local_ims)
    served_jwks(local_ims)

    assert local_ims.jwks_requests() == 2

    local_ims.reset_counters()
    assert local_ims.jwks_requests() == 0


def test_rotation_publishes_new_kid(local_ims: LocalIMS) -> None:
    old_kid = local_ims.current_kid

    new_kid = local_ims.rotate_signing_key()

    assert new_kid != old_kid
    assert new_kid == local_ims.current_kid
    assert served_kids(local_ims)[:2] == [new_kid, old_kid]


def test_rotation_signs_with_new_key(local_ims: LocalIMS) -> None:
    old_token = local_ims.make_id_token(org_id=ORG_ID, nonce="n")
    new_kid = local_ims.rotate_signing_key()
    new_token = local_ims.make_id_token(org_id=ORG_ID, nonce="n")

    key_set = KeySet.import_key_set(served_jwks(local_ims).json())

    assert (
        jwt.decode(new_token, key_set, algorithms=["RS256"], registry=IMS_REGISTRY).header["kid"]
        == new_kid
    )
    assert jwt.decode(old_token, key_set, algorithms=["RS256"], registry=IMS_REGISTRY)


def test_rotation_without_old_keys(local_ims: LocalIMS) -> None:
    local_ims.rotate_signing_key()

    new_kid = local_ims.rotate_signing_key(keep_old=False)

    assert served_kids(local_ims) == [new_kid]


def test_kids_are_never_reused(local_ims: LocalIMS) -> None:
    first = local_ims.rotate_signing_key(keep_old=False)

    local_ims.reset(new_keys=True)

    assert local_ims.current_kid != first
    assert served_kids(local_ims) == [local_ims.current_kid]


def test_reset_keeps_keys(local_ims: LocalIMS) -> None:
    kid = local_ims.rotate_signing_key()

    local_ims.reset()

    assert local_ims.current_kid == kid
    assert kid in served_kids(local_ims)


def test_jwks_max_age_setting() -> None:
    with LocalIMS(jwks_max_age=5) as ims:
        assert served_jwks(ims).headers["Cache-Control"] == "public, max-age=5"
        assert served_jwks(ims).json() == ims.jwks()
