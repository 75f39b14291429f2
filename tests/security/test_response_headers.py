"""Every response of the consent flow stays out of caches, Referer headers and frames."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from flask_adobe_admin_auth.callback import BOUNCE_PARAMETER

from ..flow import Flow

EXPECTED_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}


def assert_no_store(response: requests.Response) -> None:
    for name, value in EXPECTED_HEADERS.items():
        assert response.headers.get(name) == value, name


@pytest.fixture
def signed_in(flow: Flow, browser: requests.Session) -> requests.Session:
    flow.sign_in(browser, "alice")
    return browser


def test_connect_redirect_headers(flow: Flow, signed_in: requests.Session) -> None:
    response = signed_in.get(f"{flow.url}/adobe/connect", allow_redirects=False)

    assert response.status_code == 302
    assert_no_store(response)


def test_callback_redirect_headers(flow: Flow, signed_in: requests.Session) -> None:
    state, nonce = flow.start(signed_in)

    response = flow.finish(signed_in, state, flow.id_token(nonce))

    assert response.status_code == 302
    assert_no_store(response)


def test_bounce_page_headers(flow: Flow, signed_in: requests.Session) -> None:
    connect = signed_in.get(f"{flow.url}/adobe/connect", allow_redirects=False)
    state = parse_qs(urlsplit(connect.headers["Location"]).query)["state"][0]

    # A browser without cookies behaves like a SameSite=Strict redirect.
    response = flow.callback(None, {"state": state, "admin_consent": "true"})

    assert BOUNCE_PARAMETER in flow.bounce_target(response)
    assert_no_store(response)


def test_result_page_headers(flow: Flow, signed_in: requests.Session) -> None:
    params = {"state": "unknown-state", "admin_consent": "true", BOUNCE_PARAMETER: "1"}

    response = flow.callback(signed_in, params)

    assert response.status_code == 400
    assert_no_store(response)
