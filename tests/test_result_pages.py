"""Result pages and JSON errors: fallbacks for bad endpoint settings, 503 pages, disconnect form."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable

import pytest
import requests
from flask import Flask

from flask_adobe_admin_auth import outcomes
from flask_adobe_admin_auth.outcomes import Outcome
from flask_adobe_admin_auth.responses import render_outcome
from flask_adobe_admin_auth.testing import LocalIMS

from .conftest import AppFactory
from .flow import Flow, active_orgs, csrf_token
from .support import ORG_A

CONNECT_BUTTON = "Connect with Adobe again"
HTML = {"Accept": "text/html"}
JSON = {"Accept": "application/json"}

ALL_OUTCOMES: dict[str, Outcome] = {
    **{f"adobe:{code}": outcome for code, outcome in outcomes.ADOBE_OUTCOMES.items()},
    **{
        name: value
        for name, value in vars(outcomes).items()
        if isinstance(value, Outcome) and name.isupper()
    },
}

#: Pages where a new consent flow can succeed.
RECONNECT_OUTCOMES = {
    "adobe:cancelled",
    "adobe:insufficient_privilege",
    "adobe:incompatible_account_type",
    "adobe:missing_state_param",
    "adobe:error",
    "UNKNOWN_ADOBE_ERROR",
    "REJECTED",
}


@pytest.fixture
def flow(make_flow: Callable[..., Flow]) -> Flow:
    return make_flow()


def endpoint_errors(caplog: pytest.LogCaptureFixture, setting: str) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno == logging.ERROR and f"ADOBE_ADMIN_AUTH_{setting}" in record.getMessage()
    ]


# Endpoint settings that name no view fall back instead of returning 500.


def test_unknown_login_endpoint_answers_401(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(ADOBE_ADMIN_AUTH_LOGIN_ENDPOINT="no_such_login")
    client = app.test_client()

    connect = client.get("/adobe/connect", headers=HTML)
    reports = client.get("/reports", headers=HTML)

    assert connect.status_code == 401
    assert "Please sign in" in connect.get_data(as_text=True)
    assert reports.status_code == 401
    errors = endpoint_errors(caplog, "LOGIN_ENDPOINT")
    assert len(errors) == 2
    assert "'no_such_login'" in errors[0]


def test_known_login_endpoint_redirects(make_app: AppFactory) -> None:
    app = make_app(ADOBE_ADMIN_AUTH_LOGIN_ENDPOINT="home")

    response = app.test_client().get("/reports", headers=HTML)

    assert response.status_code == 302
    assert response.headers["Location"] == "/?next=/reports"


def test_unknown_after_connect_endpoint_goes_home(
    make_flow: Callable[..., Flow], browser: requests.Session, caplog: pytest.LogCaptureFixture
) -> None:
    flow = make_flow(ADOBE_ADMIN_AUTH_AFTER_CONNECT_ENDPOINT="no_such_view")
    flow.sign_in(browser, "alice")

    response = flow.connect(browser)

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert active_orgs(flow, "alice") == [ORG_A]
    errors = endpoint_errors(caplog, "AFTER_CONNECT_ENDPOINT")
    assert len(errors) == 1
    assert "'no_such_view'" in errors[0]


def test_unknown_after_disconnect_endpoint_goes_home(
    make_flow: Callable[..., Flow], browser: requests.Session, caplog: pytest.LogCaptureFixture
) -> None:
    flow = make_flow(ADOBE_ADMIN_AUTH_AFTER_DISCONNECT_ENDPOINT="no_such_view")
    flow.sign_in(browser, "alice")
    assert flow.connect(browser).status_code == 302

    response = browser.post(
        f"{flow.url}/adobe/disconnect",
        data={"csrf_token": csrf_token(flow, browser)},
        allow_redirects=False,
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert active_orgs(flow, "alice") == []
    errors = endpoint_errors(caplog, "AFTER_DISCONNECT_ENDPOINT")
    assert len(errors) == 1
    assert "'no_such_view'" in errors[0]


# The result template and its headers, for every outcome.


@pytest.mark.parametrize("name", sorted(ALL_OUTCOMES))
def test_connect_button_only_where_it_helps(app: Flask, name: str) -> None:
    outcome = ALL_OUTCOMES[name]

    with app.test_request_context("/adobe/callback", headers=HTML):
        response = render_outcome(outcome, code="some_code")

    page = response.get_data(as_text=True)
    assert (CONNECT_BUTTON in page) is (name in RECONNECT_OUTCOMES)
    assert outcome.offer_connect is (name in RECONNECT_OUTCOMES)


@pytest.mark.parametrize(
    "name", sorted(name for name, outcome in ALL_OUTCOMES.items() if outcome.status == 503)
)
def test_unavailable_pages_change_nothing(app: Flask, name: str) -> None:
    outcome = ALL_OUTCOMES[name]

    with app.test_request_context("/adobe/callback", headers=HTML):
        response = render_outcome(outcome, code="some_code")

    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert "Nothing was changed." in page
    assert "connection is unchanged" not in page
    assert CONNECT_BUTTON not in page


def test_three_unavailable_pages_exist() -> None:
    unavailable = {name for name, outcome in ALL_OUTCOMES.items() if outcome.status == 503}

    assert unavailable == {"JWKS_UNAVAILABLE", "IMS_UNAVAILABLE", "CACHE_UNAVAILABLE"}


def test_jwks_outage_in_callback_says_start_again(
    flow: Flow, local_ims: LocalIMS, browser: requests.Session
) -> None:
    flow.sign_in(browser, "alice")
    state, nonce = flow.start(browser)
    local_ims.fail_next(3, endpoint="jwks", status=503)

    response = flow.finish(browser, state, flow.id_token(nonce), headers=HTML)

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert "<code>jwks_unavailable</code>" in response.text
    assert "start again from this app" in response.text
    assert "Nothing was changed." in response.text
    assert CONNECT_BUTTON not in response.text
    assert active_orgs(flow, "alice") == []

    # The state was consumed, which is why the page cannot offer a reload.
    local_ims.reset()
    reloaded = flow.finish(browser, state, flow.id_token(nonce), headers=HTML)
    assert reloaded.status_code == 400
    assert "<code>state_unknown</code>" in reloaded.text


def test_ims_outage_page_has_no_connect_button(
    flow: Flow, local_ims: LocalIMS, browser: requests.Session
) -> None:
    flow.sign_in(browser, "alice")
    assert flow.connect(browser).status_code == 302
    local_ims.fail_next(3, status=503)

    response = browser.get(f"{flow.url}/reports", headers=HTML)

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert "<code>ims_unavailable</code>" in response.text
    assert "Nothing was changed." in response.text
    assert CONNECT_BUTTON not in response.text
    assert active_orgs(flow, "alice") == [ORG_A]


def test_cache_outage_page_has_retry_after(make_app: AppFactory) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = make_app(ADOBE_ADMIN_AUTH_CACHE=f"redis://127.0.0.1:{port}/0")
    client = app.test_client()
    client.get("/login/alice")

    response = client.get("/adobe/connect", headers=HTML)

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert CONNECT_BUTTON not in response.get_data(as_text=True)


def test_cancel_page_offers_connect(
    flow: Flow, local_ims: LocalIMS, browser: requests.Session
) -> None:
    local_ims.auto_cancel()
    flow.sign_in(browser, "alice")

    response = browser.get(f"{flow.url}/adobe/connect", headers=HTML)

    assert response.status_code == 403
    assert CONNECT_BUTTON in response.text


# JSON responses of the decorators.


def test_consent_required_json(make_app: AppFactory) -> None:
    client = make_app().test_client()
    client.get("/login/alice")

    response = client.get("/consent-info?tab=1", headers=JSON)

    body = response.get_json()
    assert response.status_code == 403
    assert body["error"] == "consent_required"
    assert body["title"]
    assert body["message"] == "Connect an Adobe organization first."
    assert body["connect_url"] == "/adobe/connect?next=/consent-info?tab%3D1"
    assert response.headers["Cache-Control"] == "no-store"


def test_signed_out_json_fits_any_view(make_app: AppFactory) -> None:
    client = make_app().test_client()

    response = client.get("/reports", headers=JSON)

    body = response.get_json()
    assert response.status_code == 401
    assert body["error"] == "not_signed_in"
    assert body["message"] == "Sign in to this app first."
    assert "Adobe" not in body["message"]
    assert response.headers["Cache-Control"] == "no-store"
