"""Disconnect takes POST with a CSRF token of this browser that has not expired."""

from __future__ import annotations

import time

import pytest
import requests

from flask_adobe_admin_auth.browser import CSRF_MAX_AGE

from ..flow import Flow, active_orgs, csrf_token, disconnect


@pytest.fixture
def connected(flow: Flow, browser: requests.Session) -> requests.Session:
    flow.sign_in(browser, "alice")
    assert flow.connect(browser).status_code == 302
    return browser


def test_disconnect_by_get_not_allowed(flow: Flow, connected: requests.Session) -> None:
    response = connected.get(f"{flow.url}/adobe/disconnect", allow_redirects=False)

    assert response.status_code == 405
    assert len(active_orgs(flow, "alice")) == 1


def test_disconnect_with_valid_token(flow: Flow, connected: requests.Session) -> None:
    response = disconnect(flow, connected, csrf_token=csrf_token(flow, connected))

    assert response.status_code == 302
    assert active_orgs(flow, "alice") == []


@pytest.mark.parametrize("token", [None, "", "not-a-token", "x" * 600])
def test_disconnect_bad_token_rejected(
    flow: Flow, connected: requests.Session, token: str | None
) -> None:
    form = {} if token is None else {"csrf_token": token}

    response = disconnect(flow, connected, **form)

    assert response.status_code == 400
    assert "<code>csrf_failed</code>" in response.text
    assert len(active_orgs(flow, "alice")) == 1


def test_disconnect_token_of_other_browser_rejected(
    flow: Flow, connected: requests.Session, other_browser: requests.Session
) -> None:
    flow.sign_in(other_browser, "mallory")
    foreign_token = csrf_token(flow, other_browser)

    response = disconnect(flow, connected, csrf_token=foreign_token)

    assert response.status_code == 400
    assert len(active_orgs(flow, "alice")) == 1


def test_disconnect_token_without_binding_rejected(flow: Flow, connected: requests.Session) -> None:
    token = csrf_token(flow, connected)
    binding = flow.runtime.settings.binding_cookie_name
    connected.cookies.clear(domain="127.0.0.1", path="/", name=binding)

    response = disconnect(flow, connected, csrf_token=token)

    assert response.status_code == 400
    assert len(active_orgs(flow, "alice")) == 1


def test_disconnect_expired_token_rejected(flow: Flow, connected: requests.Session) -> None:
    issued_at = time.time() - CSRF_MAX_AGE - 10
    flow.runtime.binding.clock = lambda: issued_at
    token = csrf_token(flow, connected)
    flow.runtime.binding.clock = time.time

    response = disconnect(flow, connected, csrf_token=token)

    assert response.status_code == 400
    assert len(active_orgs(flow, "alice")) == 1


def test_disconnect_token_almost_expired_accepted(flow: Flow, connected: requests.Session) -> None:
    issued_at = time.time() - CSRF_MAX_AGE + 60
    flow.runtime.binding.clock = lambda: issued_at
    token = csrf_token(flow, connected)
    flow.runtime.binding.clock = time.time

    response = disconnect(flow, connected, csrf_token=token)

    assert response.status_code == 302
    assert active_orgs(flow, "alice") == []


def test_disconnect_token_from_future_rejected(flow: Flow, connected: requests.Session) -> None:
    issued_at = time.time() + 3600
    flow.runtime.binding.clock = lambda: issued_at
    token = csrf_token(flow, connected)
    flow.runtime.binding.clock = time.time

    response = disconnect(flow, connected, csrf_token=token)

    assert response.status_code == 400
    assert len(active_orgs(flow, "alice")) == 1


def test_disconnect_other_account_consent_untouched(
    flow: Flow, connected: requests.Session, other_browser: requests.Session
) -> None:
    flow.sign_in(other_browser, "mallory")
    org_id = active_orgs(flow, "alice")[0]

    response = disconnect(
        flow, other_browser, csrf_token=csrf_token(flow, other_browser), org_id=org_id
    )

    assert response.status_code == 404
    assert active_orgs(flow, "alice") == [org_id]
