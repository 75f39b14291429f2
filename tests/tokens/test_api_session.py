"""``adobe.api_session(org_id)``: Adobe's headers, one re-mint and retry on a 401."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from flask_adobe_admin_auth import AdobeAdminAuth, ConsentRevokedError
from flask_adobe_admin_auth.testing import LocalIMS

from .conftest import ORGS
from .helpers import runtime_of

ORG = ORGS[0]
AppBuilder = Callable[..., Flask]


def adobe_of(app: Flask) -> AdobeAdminAuth:
    adobe = app.extensions["test_adobe"]
    assert isinstance(adobe, AdobeAdminAuth)
    return adobe


def organization_url(local_ims: LocalIMS) -> str:
    return local_ims.demo_api_url + "/organization"


def test_session_sends_adobe_headers(seeded_app: AppBuilder, local_ims: LocalIMS) -> None:
    app = seeded_app()
    with app.app_context():
        session = adobe_of(app).api_session(ORG)

    response = session.get(organization_url(local_ims))

    assert response.status_code == 200
    assert response.json()["org_id"] == ORG
    assert local_ims.token_requests(ORG) == 1


def test_session_works_outside_app_context(seeded_app: AppBuilder, local_ims: LocalIMS) -> None:
    app = seeded_app()
    with app.app_context():
        session = adobe_of(app).api_session(ORG)

    # As in a Celery task that built the session at start-up.
    responses = [session.get(organization_url(local_ims)) for _ in range(3)]

    assert [response.status_code for response in responses] == [200, 200, 200]
    assert local_ims.token_requests(ORG) == 1


def test_expired_token_reminted_once(seeded_app: AppBuilder, local_ims: LocalIMS) -> None:
    app = seeded_app()
    with app.app_context():
        session = adobe_of(app).api_session(ORG)
    assert session.get(organization_url(local_ims)).status_code == 200
    local_ims.expire_tokens(ORG)

    response = session.get(organization_url(local_ims))

    assert response.status_code == 200
    assert local_ims.token_requests(ORG) == 2
    assert local_ims.demo_requests() == 3


def test_second_401_returned(seeded_app: AppBuilder, local_ims: LocalIMS) -> None:
    app = seeded_app()
    with app.app_context():
        session = adobe_of(app).api_session(ORG)
    local_ims.fail_next(2, endpoint="demo", status=401)

    response = session.get(organization_url(local_ims))

    assert response.status_code == 401
    assert local_ims.token_requests(ORG) == 2
    assert local_ims.demo_requests() == 2


def test_other_errors_not_retried(seeded_app: AppBuilder, local_ims: LocalIMS) -> None:
    app = seeded_app()
    with app.app_context():
        session = adobe_of(app).api_session(ORG)
    local_ims.fail_next(endpoint="demo", status=403)

    response = session.get(organization_url(local_ims))

    assert response.status_code == 403
    assert local_ims.token_requests(ORG) == 1


def test_revoked_org_revokes_consent(
    seeded_app: AppBuilder, local_ims: LocalIMS, revocations: list[dict[str, Any]]
) -> None:
    app = seeded_app()
    with app.app_context():
        session = adobe_of(app).api_session(ORG)
    assert session.get(organization_url(local_ims)).status_code == 200
    local_ims.revoke(ORG, invalidate_tokens=True)

    with pytest.raises(ConsentRevokedError):
        session.get(organization_url(local_ims))

    with app.app_context():
        consent = runtime_of(app).store.find(org_id=ORG)[0]
    assert consent.status == "revoked"
    assert consent.revoked_reason == "token_rejected"
    assert [signal["org_id"] for signal in revocations] == [ORG]
