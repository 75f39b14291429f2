"""Length limits where data is written: account ids and revocation reasons."""

from __future__ import annotations

import pytest
from flask import Flask

from flask_adobe_admin_auth import AdobeAdminAuth
from flask_adobe_admin_auth.models import ID_MAX_LENGTH, REASON_MAX_LENGTH
from flask_adobe_admin_auth.runtime import get_runtime

from .support import ORG_A


def adobe_of(app: Flask) -> AdobeAdminAuth:
    adobe: AdobeAdminAuth = app.extensions["test_adobe"]
    return adobe


def test_load_account_accepts_max_length(app: Flask) -> None:
    adobe = adobe_of(app)
    adobe.account_loader(lambda: "a" * ID_MAX_LENGTH)

    with app.test_request_context():
        assert adobe.load_account() == "a" * ID_MAX_LENGTH


def test_load_account_rejects_overlong_id(app: Flask) -> None:
    adobe = adobe_of(app)
    adobe.account_loader(lambda: "a" * (ID_MAX_LENGTH + 1))

    with app.test_request_context(), pytest.raises(ValueError, match="at most 255"):
        adobe.load_account()


@pytest.mark.parametrize("reason", ["", "r" * (REASON_MAX_LENGTH + 1)])
def test_revoke_consent_rejects_bad_reason(app: Flask, reason: str) -> None:
    adobe = adobe_of(app)
    with app.app_context():
        consent, _ = get_runtime().store.grant(
            account_id="alice", org_id=ORG_A, technical_account_id="TA@techacct", scopes="openid"
        )

        with pytest.raises(ValueError, match="1 to 64 characters"):
            adobe.revoke_consent(consent, reason=reason)

        stored = get_runtime().store.get(consent.id)
        events = get_runtime().store.events(consent_id=consent.id)

    assert stored is not None
    assert stored.status == "active"
    assert [event.kind for event in events] == ["granted"]


def test_revoke_consent_accepts_max_reason(app: Flask) -> None:
    adobe = adobe_of(app)
    reason = "r" * REASON_MAX_LENGTH
    with app.app_context():
        consent, _ = get_runtime().store.grant(
            account_id="alice", org_id=ORG_A, technical_account_id="TA@techacct", scopes="openid"
        )

        revoked = adobe.revoke_consent(consent, reason=reason)
        stored = get_runtime().store.get(consent.id)

    assert revoked is True
    assert stored is not None
    assert stored.revoked_reason == reason
