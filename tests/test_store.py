"""The consent store: upserts, conditional revocation and the audit trail."""

from __future__ import annotations

import threading

from flask import Flask

from flask_adobe_admin_auth.runtime import get_runtime

from .support import ORG_A, ORG_B


def grant(app: Flask, account_id: str, org_id: str, technical_account: str = "TA@techacct") -> None:
    with app.app_context():
        get_runtime().store.grant(
            account_id=account_id,
            org_id=org_id,
            technical_account_id=technical_account,
            scopes="openid,AdobeID",
        )


def test_grant_twice_updates_one_row(app: Flask) -> None:
    grant(app, "alice", ORG_A, "first@techacct")
    grant(app, "alice", ORG_A, "second@techacct")

    with app.app_context():
        store = get_runtime().store
        consents = store.find(account_id="alice")
        kinds = [event.kind for event in store.events(account_id="alice")]

    assert len(consents) == 1
    assert consents[0].technical_account_id == "second@techacct"
    assert kinds == ["granted", "reconnected"]


def test_concurrent_grants_leave_one_row(app: Flask) -> None:
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            grant(app, "alice", ORG_A)
        except BaseException as error:  # collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    with app.app_context():
        consents = get_runtime().store.find(account_id="alice")
    assert errors == []
    assert len(consents) == 1
    assert consents[0].is_active


def test_revoke_succeeds_once(app: Flask) -> None:
    grant(app, "alice", ORG_A)
    with app.app_context():
        store = get_runtime().store
        consent = store.active_consents("alice")[0]

        first = store.revoke(consent.id, reason="disconnected")
        second = store.revoke(consent.id, reason="disconnected")
        revoked = store.get(consent.id)

    assert first is True
    assert second is False
    assert revoked is not None
    assert revoked.status == "revoked"
    assert revoked.revoked_reason == "disconnected"
    assert revoked.revoked_at is not None
    assert revoked.revoked_at.tzinfo is not None


def test_active_consents_most_recent_first(app: Flask) -> None:
    grant(app, "alice", ORG_A)
    grant(app, "alice", ORG_B)

    with app.app_context():
        consents = get_runtime().store.active_consents("alice")

    assert [consent.org_id for consent in consents] == [ORG_B, ORG_A]
