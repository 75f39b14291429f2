"""The id_token: every check must pass before the org id is trusted.

Each test starts a real flow, then returns to the callback with a token
forged by the stand-in, and checks the rejection code and that nothing was
linked.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from joserfc.jwk import RSAKey

from flask_adobe_admin_auth.consent_request import digest
from flask_adobe_admin_auth.errors import ConsentRejected
from flask_adobe_admin_auth.jwks import _COOLDOWN_KEY
from flask_adobe_admin_auth.testing.keys import json_b64url

from ..flow import Flow
from ..support import ORG_A, ORG_B

ADOBE_ISSUERS = ("https://ims-na1.adobelogin.com/ims", "https://ims-na1.adobelogin.com")


def reject_code(response: requests.Response) -> str:
    assert response.status_code >= 400, response.status_code
    start = response.text.index("<code>") + len("<code>")
    return response.text[start : response.text.index("</code>", start)]


def forge_and_finish(flow: Flow, browser: requests.Session, **overrides: Any) -> requests.Response:
    """Start a flow as alice and return with a token built from ``overrides``."""
    flow.sign_in(browser, "alice")
    state, nonce = flow.start(browser)
    nonce_value = overrides.pop("nonce", nonce)
    return flow.finish(browser, state, flow.id_token(nonce_value, **overrides))


def assert_rejected(flow: Flow, response: requests.Response, code: str) -> None:
    assert reject_code(response) == code
    assert flow.all_consents() == []
    assert [event.reason for event in flow.events("alice")] == [code]


# Algorithm


@pytest.mark.parametrize("alg", ["none", "HS256", "RS512", "RS384", "PS256"])
def test_algorithm_other_than_rs256_rejected(
    flow: Flow, browser: requests.Session, alg: str
) -> None:
    response = forge_and_finish(flow, browser, alg=alg)

    assert_rejected(flow, response, "id_token_algorithm_rejected")


def with_header(id_token: str, header: dict[str, Any]) -> str:
    """Replace the header of a signed token, keeping its payload and signature."""
    _, payload, signature = id_token.split(".")
    return f"{json_b64url(header)}.{payload}.{signature}"


@pytest.mark.parametrize("alg", ["ES256", "EdDSA", "RS256 ", "rs256", None, ["RS256"]])
def test_foreign_alg_header_rejected(flow: Flow, browser: requests.Session, alg: object) -> None:
    flow.sign_in(browser, "alice")
    state, nonce = flow.start(browser)
    header = {"alg": alg, "kid": flow.ims.current_kid}

    response = flow.finish(browser, state, with_header(flow.id_token(nonce), header))

    assert_rejected(flow, response, "id_token_algorithm_rejected")


def test_hs256_with_rs256_header_rejected(flow: Flow, browser: requests.Session) -> None:
    # An HMAC keyed with the public key but labelled RS256 fails the RSA check.
    flow.sign_in(browser, "alice")
    state, nonce = flow.start(browser)
    forged = flow.id_token(nonce, alg="HS256")
    _, payload, signature = forged.split(".")
    relabelled_header = flow.id_token(nonce).split(".")[0]

    response = flow.finish(browser, state, f"{relabelled_header}.{payload}.{signature}")

    assert_rejected(flow, response, "id_token_signature_invalid")


# Key selection


def test_missing_kid_rejected(flow: Flow, browser: requests.Session) -> None:
    response = forge_and_finish(flow, browser, header={"kid": None})

    assert_rejected(flow, response, "id_token_kid_missing")


def test_unknown_kid_refetches_once(flow: Flow, browser: requests.Session) -> None:
    flow.sign_in(browser, "alice")
    flow.connect(browser)  # caches the key set
    flow.runtime.cache.delete(_COOLDOWN_KEY)  # the refetch cooldown has passed
    fetches = flow.ims.jwks_requests()
    stranger = RSAKey.generate_key(2048, parameters={"kid": "unknown-kid"}, private=True)

    first = forge_and_finish(flow, browser, key=stranger)
    second = forge_and_finish(flow, browser, key=stranger)

    assert reject_code(first) == "id_token_kid_unknown"
    assert reject_code(second) == "id_token_kid_unknown"
    assert flow.ims.jwks_requests() == fetches + 1
    assert [consent.org_id for consent in flow.consents("alice")] == [ORG_A]


def test_rotated_key_accepted_after_refetch(flow: Flow, browser: requests.Session) -> None:
    flow.sign_in(browser, "alice")
    flow.connect(browser)
    flow.ims.rotate_signing_key(keep_old=False)
    flow.runtime.cache.delete(_COOLDOWN_KEY)

    response = forge_and_finish(flow, browser, org_id=ORG_B)

    assert response.status_code == 302
    assert len(flow.consents("alice")) == 2


def test_known_kid_wrong_key_rejected(flow: Flow, browser: requests.Session) -> None:
    attacker_key = RSAKey.generate_key(2048, private=True)

    response = forge_and_finish(flow, browser, key=attacker_key)

    assert_rejected(flow, response, "id_token_signature_invalid")


def test_embedded_jwk_ignored(flow: Flow, browser: requests.Session) -> None:
    attacker_key = RSAKey.generate_key(2048, private=True)
    public = attacker_key.as_dict(private=False)

    response = forge_and_finish(flow, browser, key=attacker_key, header={"jwk": public})

    assert reject_code(response) in ("id_token_signature_invalid", "id_token_malformed")
    assert flow.all_consents() == []


def test_crit_header_rejected(flow: Flow, browser: requests.Session) -> None:
    response = forge_and_finish(flow, browser, header={"crit": ["itt"]})

    assert_rejected(flow, response, "id_token_malformed")


def test_tampered_payload_rejected(flow: Flow, browser: requests.Session) -> None:
    flow.sign_in(browser, "alice")
    state, nonce = flow.start(browser)
    genuine = flow.id_token(nonce, org_id=ORG_A).split(".")
    other_payload = flow.id_token(nonce, org_id=ORG_B).split(".")[1]

    response = flow.finish(browser, state, f"{genuine[0]}.{other_payload}.{genuine[2]}")

    assert_rejected(flow, response, "id_token_signature_invalid")


@pytest.mark.parametrize("itt", ["id", "at"])
def test_adobe_header_layout_accepted(flow: Flow, browser: requests.Session, itt: str) -> None:
    kid = flow.ims.current_kid
    header = {"x5u": f"{kid}.cer", "itt": itt, "typ": None}

    response = forge_and_finish(flow, browser, header=header)

    assert response.status_code == 302
    assert [consent.org_id for consent in flow.consents("alice")] == [ORG_A]


# Issuer and audience


@pytest.mark.parametrize("issuer", ADOBE_ISSUERS)
def test_adobe_issuers_accepted_by_default(
    make_flow: Callable[..., Flow], browser: requests.Session, issuer: str
) -> None:
    flow = make_flow(ADOBE_ADMIN_AUTH_ISSUER=None)

    response = forge_and_finish(flow, browser, iss=issuer)

    assert response.status_code == 302
    assert len(flow.consents("alice")) == 1


@pytest.mark.parametrize(
    "issuer",
    [
        "https://ims-na1.adobelogin.com/ims/",
        "https://ims-na1.adobelogin.com/",
        "https://ims-na1.adobelogin.com.evil.example",
        "https://ims-na1.adobelogin.com/ims.evil.example",
        "https://evil.example/https://ims-na1.adobelogin.com/ims",
        "http://ims-na1.adobelogin.com/ims",
        "https://IMS-NA1.adobelogin.com/ims",
        "",
    ],
)
def test_issuer_variant_rejected(
    make_flow: Callable[..., Flow], browser: requests.Session, issuer: str
) -> None:
    flow = make_flow(ADOBE_ADMIN_AUTH_ISSUER=None)

    response = forge_and_finish(flow, browser, iss=issuer)

    assert_rejected(flow, response, "issuer_mismatch")


def test_issuer_missing_rejected(flow: Flow, browser: requests.Session) -> None:
    response = forge_and_finish(flow, browser, claims={"iss": None})

    assert_rejected(flow, response, "issuer_mismatch")


def test_audience_list_of_one_accepted(flow: Flow, browser: requests.Session) -> None:
    response = forge_and_finish(flow, browser, claims={"aud": [flow.ims.client_id]})

    assert response.status_code == 302


@pytest.mark.parametrize(
    "audience",
    [
        ["local-client-id", "other-client"],
        ["other-client", "local-client-id"],
        "other-client",
        "local-client-id-suffix",
        "",
        [],
        7,
    ],
)
def test_audience_mismatch_rejected(
    flow: Flow, browser: requests.Session, audience: object
) -> None:
    assert flow.ims.client_id == "local-client-id"

    response = forge_and_finish(flow, browser, claims={"aud": audience})

    assert_rejected(flow, response, "audience_mismatch")


# Times


def test_exp_missing_rejected(flow: Flow, browser: requests.Session) -> None:
    response = forge_and_finish(flow, browser, claims={"exp": None})

    assert_rejected(flow, response, "exp_missing")


def test_expired_token_rejected(flow: Flow, browser: requests.Session) -> None:
    now = int(time.time())
    leeway = flow.runtime.settings.clock_leeway

    response = forge_and_finish(flow, browser, iat=now - 3600, exp=now - leeway - 30)

    assert_rejected(flow, response, "id_token_expired")


def test_expiry_within_leeway_accepted(flow: Flow, browser: requests.Session) -> None:
    now = int(time.time())
    leeway = flow.runtime.settings.clock_leeway

    response = forge_and_finish(flow, browser, iat=now - 3600, exp=now - leeway // 2)

    assert response.status_code == 302


def test_iat_in_future_rejected(flow: Flow, browser: requests.Session) -> None:
    now = int(time.time())
    leeway = flow.runtime.settings.clock_leeway

    response = forge_and_finish(flow, browser, iat=now + leeway + 60)

    assert_rejected(flow, response, "iat_in_future")


def test_iat_skew_within_leeway_accepted(flow: Flow, browser: requests.Session) -> None:
    now = int(time.time())
    leeway = flow.runtime.settings.clock_leeway

    response = forge_and_finish(flow, browser, iat=now + leeway // 2)

    assert response.status_code == 302


@pytest.mark.parametrize("value", ["1700000000", True, None, -5, 1.5e400])
def test_non_numeric_exp_rejected(flow: Flow, browser: requests.Session, value: object) -> None:
    claims: dict[str, Any] = {"exp": value} if value is not None else {"exp": None}
    if value == 1.5e400:
        # JSON has no infinity; joserfc refuses to encode it, so use a string instead.
        claims = {"exp": "Infinity"}

    response = forge_and_finish(flow, browser, claims=claims)

    assert_rejected(flow, response, "exp_missing")


# Nonce


def test_nonce_missing_rejected(flow: Flow, browser: requests.Session) -> None:
    response = forge_and_finish(flow, browser, nonce=None)

    assert_rejected(flow, response, "nonce_mismatch")


def test_nonce_of_other_flow_rejected(flow: Flow, browser: requests.Session) -> None:
    flow.sign_in(browser, "alice")
    _, first_nonce = flow.start(browser)
    second_state, _ = flow.start(browser)

    response = flow.finish(browser, second_state, flow.id_token(first_nonce))

    assert_rejected(flow, response, "nonce_mismatch")


@pytest.mark.parametrize("nonce", ["", "wrong-nonce"])
def test_nonce_wrong_rejected(flow: Flow, browser: requests.Session, nonce: str) -> None:
    response = forge_and_finish(flow, browser, nonce=nonce)

    assert_rejected(flow, response, "nonce_mismatch")


# Org id


@pytest.mark.parametrize("org_claim", ["orgId", "org_id", "both"])
def test_org_claim_variants_accepted(flow: Flow, browser: requests.Session, org_claim: str) -> None:
    response = forge_and_finish(flow, browser, org_claim=org_claim)

    assert response.status_code == 302
    assert [consent.org_id for consent in flow.consents("alice")] == [ORG_A]


def test_conflicting_org_claims_rejected(flow: Flow, browser: requests.Session) -> None:
    response = forge_and_finish(flow, browser, claims={"orgId": ORG_A, "org_id": ORG_B})

    assert_rejected(flow, response, "org_id_conflict")


@pytest.mark.parametrize("value", [None, "", 42, "has space@AdobeOrg", "x" * 300])
def test_missing_or_invalid_org_rejected(
    flow: Flow, browser: requests.Session, value: object
) -> None:
    response = forge_and_finish(flow, browser, claims={"orgId": value})

    assert_rejected(flow, response, "org_id_missing")


def test_sub_missing_rejected(flow: Flow, browser: requests.Session) -> None:
    response = forge_and_finish(flow, browser, claims={"sub": None})

    assert_rejected(flow, response, "sub_missing")


# Replay


def test_replayed_token_rejected_on_new_state(flow: Flow, browser: requests.Session) -> None:
    flow.sign_in(browser, "alice")
    state, nonce = flow.start(browser)
    id_token = flow.id_token(nonce)
    assert flow.finish(browser, state, id_token).status_code == 302
    flow.sign_in(browser, "mallory")
    new_state, _ = flow.start(browser)

    response = flow.finish(browser, new_state, id_token)

    assert reject_code(response) == "nonce_mismatch"
    assert flow.consents("mallory") == []


def test_verifier_rejects_second_use(flow: Flow) -> None:
    id_token = flow.id_token("the-nonce")

    with flow.app.app_context():
        verified = flow.runtime.verifier.verify(id_token, nonce="the-nonce")
        with pytest.raises(ConsentRejected) as raised:
            flow.runtime.verifier.verify(id_token, nonce="the-nonce")

    assert verified.org_id == ORG_A
    assert raised.value.code == "id_token_replayed"


def test_replay_marker_lasts_until_expiry(flow: Flow) -> None:
    now = int(time.time())
    id_token = flow.id_token("the-nonce", iat=now - 10, exp=now + 3600)

    with flow.app.app_context():
        flow.runtime.verifier.verify(id_token, nonce="the-nonce")

    key = "id_token:" + digest(id_token)
    assert flow.runtime.cache.get(key) is not None
