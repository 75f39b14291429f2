"""Tokens only for orgs with an active consent, and revocation reaching every process."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from flask import Flask

from flask_adobe_admin_auth import NoActiveConsent
from flask_adobe_admin_auth.testing import LocalIMS

from .conftest import ORGS
from .helpers import runtime_of
from .sharing import two_workers

ORG = ORGS[0]
AppBuilder = Callable[..., Flask]
LOCAL_TIMEOUT = 0.2


def revoke_org(app: Flask, org_id: str) -> None:
    with app.app_context():
        adobe = app.extensions["test_adobe"]
        for consent in runtime_of(app).store.active_consents_for_org(org_id):
            adobe.revoke_consent(consent)


def test_no_mint_after_local_revocation(seeded_app: AppBuilder, local_ims: LocalIMS) -> None:
    app = seeded_app()
    with app.app_context():
        app.extensions["test_adobe"].get_token(ORG)
    revoke_org(app, ORG)

    with app.app_context(), pytest.raises(NoActiveConsent):
        app.extensions["test_adobe"].get_token(ORG)
    with app.app_context(), pytest.raises(NoActiveConsent):
        app.extensions["test_adobe"].api_session(ORG).get(local_ims.demo_api_url)

    assert local_ims.token_requests(ORG) == 1


def test_no_mint_for_unknown_org(seeded_app: AppBuilder, local_ims: LocalIMS) -> None:
    app = seeded_app()
    stranger = "00000000000000000000AAAA@AdobeOrg"
    local_ims.grant_consent(stranger)

    with app.app_context(), pytest.raises(NoActiveConsent):
        app.extensions["test_adobe"].get_token(stranger)

    assert local_ims.token_requests() == 0


def test_cache_hit_needs_no_consent_query(seeded_app: AppBuilder, local_ims: LocalIMS) -> None:
    app = seeded_app()
    with app.app_context():
        first = runtime_of(app).get_token(ORG)
    # Consents deleted behind the app's back: only a mint would notice.
    with app.app_context():
        app.extensions["sqlalchemy"].drop_all()
        again = runtime_of(app).get_token(ORG)
        app.extensions["sqlalchemy"].create_all()

    assert again.access_token == first.access_token


def test_invalidate_reaches_other_worker(make_app: AppBuilder, local_ims: LocalIMS) -> None:
    first, second = two_workers(
        make_app, local_ims, ADOBE_ADMIN_AUTH_CONSENT_LOCAL_TIMEOUT=LOCAL_TIMEOUT
    )
    with second.app_context():
        old = runtime_of(second).get_token(ORG)
    with first.app_context():
        first.extensions["test_adobe"].invalidate_token(ORG)

    time.sleep(LOCAL_TIMEOUT + 0.05)
    with second.app_context():
        new = runtime_of(second).get_token(ORG)

    assert new.access_token != old.access_token
    assert local_ims.token_requests(ORG) == 2


def test_revocation_reaches_other_worker(make_app: AppBuilder, local_ims: LocalIMS) -> None:
    first, second = two_workers(
        make_app, local_ims, ADOBE_ADMIN_AUTH_CONSENT_LOCAL_TIMEOUT=LOCAL_TIMEOUT
    )
    with second.app_context():
        runtime_of(second).get_token(ORG)
    revoke_org(first, ORG)

    time.sleep(LOCAL_TIMEOUT + 0.05)
    with second.app_context(), pytest.raises(NoActiveConsent):
        runtime_of(second).get_token(ORG)

    assert local_ims.token_requests(ORG) == 1


def test_view_after_revocation_elsewhere(seeded_app: AppBuilder, local_ims: LocalIMS) -> None:
    app = seeded_app()
    client = app.test_client()
    client.get("/login/account-0")
    assert client.get("/reports").status_code == 200
    # Revoked in the database by another process: this one still holds the
    # consent snapshot, and its token copy is dropped so the next view mints.
    with app.app_context():
        runtime = runtime_of(app)
        for consent in runtime.store.active_consents_for_org(ORG):
            runtime.store.revoke(consent.id, reason="disconnected")
        runtime.tokens.invalidate(ORG)

    response = client.get("/reports")

    assert response.status_code == 302
    assert "/adobe/connect" in response.headers["Location"]
    assert local_ims.token_requests(ORG) == 1
