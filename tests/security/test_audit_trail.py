"""Every grant, denial, rejection, revocation and disconnect leaves an audit event."""

from __future__ import annotations

import datetime as dt

import requests
from flask import Flask

from flask_adobe_admin_auth.models import ConsentEvent
from flask_adobe_admin_auth.runtime import get_runtime

from ..flow import Flow
from ..support import ORG_A


def assert_recent(event: ConsentEvent) -> None:
    created_at = event.created_at
    if created_at.tzinfo is None:  # SQLite drops the zone; values are UTC
        created_at = created_at.replace(tzinfo=dt.timezone.utc)
    age = dt.datetime.now(dt.timezone.utc) - created_at
    assert dt.timedelta(seconds=-5) < age < dt.timedelta(seconds=60)


def test_grant_recorded(flow: Flow, browser: requests.Session) -> None:
    flow.sign_in(browser, "alice")
    flow.connect(browser)

    [event] = flow.events("alice")

    assert (event.kind, event.account_id, event.org_id) == ("granted", "alice", ORG_A)
    assert event.consent_id is not None
    assert_recent(event)


def test_reconnect_recorded(flow: Flow, browser: requests.Session) -> None:
    flow.sign_in(browser, "alice")
    flow.connect(browser)
    flow.connect(browser)

    kinds = [(event.kind, event.org_id) for event in flow.events("alice")]

    assert kinds == [("granted", ORG_A), ("reconnected", ORG_A)]


def test_cancel_recorded(flow: Flow, browser: requests.Session) -> None:
    flow.sign_in(browser, "alice")
    state, _ = flow.start(browser)
    flow.callback(browser, {"state": state, "admin_consent": "false"})

    [event] = flow.events("alice")

    assert (event.kind, event.account_id, event.reason) == ("denied", "alice", "cancelled")
    assert_recent(event)


def test_adobe_error_recorded(flow: Flow, browser: requests.Session) -> None:
    flow.sign_in(browser, "alice")
    state, _ = flow.start(browser)
    flow.callback(browser, {"state": state, "error": "insufficient_privilege"})

    [event] = flow.events("alice")

    assert (event.kind, event.reason) == ("denied", "insufficient_privilege")


def test_rejection_recorded_with_code(flow: Flow, browser: requests.Session) -> None:
    flow.sign_in(browser, "alice")
    state, nonce = flow.start(browser)
    flow.finish(browser, state, flow.id_token(nonce, alg="HS256"))

    [event] = flow.events("alice")

    assert (event.kind, event.account_id) == ("rejected", "alice")
    assert event.reason == "id_token_algorithm_rejected"
    assert_recent(event)


def test_anonymous_garbage_not_recorded(flow: Flow, other_browser: requests.Session) -> None:
    flow.callback(other_browser, {"state": "unknown", "admin_consent": "true"})

    assert flow.events() == []


def test_disconnect_recorded(flow: Flow, browser: requests.Session) -> None:
    flow.sign_in(browser, "alice")
    flow.connect(browser)
    token = browser.get(f"{flow.url}/adobe-test/csrf").text.removeprefix("csrf=")

    browser.post(f"{flow.url}/adobe/disconnect", data={"csrf_token": token})

    event = flow.events("alice")[-1]
    assert (event.kind, event.org_id, event.reason) == ("disconnected", ORG_A, "disconnected")
    assert_recent(event)


def test_local_revocation_recorded(flow: Flow, app: Flask, browser: requests.Session) -> None:
    flow.sign_in(browser, "alice")
    flow.connect(browser)
    adobe = app.extensions["test_adobe"]

    with app.app_context():
        consent = get_runtime(app).store.active_consents("alice")[0]
        adobe.revoke_consent(consent, reason="support_request")

    event = flow.events("alice")[-1]
    assert (event.kind, event.org_id, event.reason) == ("revoked", ORG_A, "support_request")


def test_revocation_by_adobe_recorded(flow: Flow, browser: requests.Session) -> None:
    flow.sign_in(browser, "alice")
    flow.ims.auto_approve(ORG_A)
    browser.get(f"{flow.url}/adobe/connect")
    flow.ims.revoke(ORG_A)
    flow.runtime.tokens.invalidate(ORG_A)

    browser.get(f"{flow.url}/reports", allow_redirects=False)

    event = flow.events("alice")[-1]
    assert (event.kind, event.org_id, event.reason) == (
        "token_rejected",
        ORG_A,
        "token_rejected",
    )
