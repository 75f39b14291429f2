"""Login CSRF: a callback URL made in one browser or account cannot finish in another."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests

from flask_adobe_admin_auth.callback import BOUNCE_PARAMETER

from ..flow import Flow


def test_callback_in_other_browser_rejected(
    flow: Flow, browser: requests.Session, other_browser: requests.Session
) -> None:
    # The attacker starts a flow and sends the victim the callback URL.
    flow.sign_in(other_browser, "mallory")
    state, nonce = flow.start(other_browser)
    flow.sign_in(browser, "alice")
    flow.start(browser)  # the victim has a binding cookie of its own

    response = flow.finish(browser, state, flow.id_token(nonce))

    assert response.status_code == 403
    assert "<code>browser_mismatch</code>" in response.text
    assert flow.all_consents() == []


def test_callback_without_cookies_rejected_after_bounce(
    flow: Flow, browser: requests.Session, other_browser: requests.Session
) -> None:
    flow.sign_in(browser, "mallory")
    state, nonce = flow.start(browser)

    bounce = flow.finish(other_browser, state, flow.id_token(nonce))
    response = other_browser.get(flow.bounce_target(bounce), allow_redirects=False)

    assert response.status_code == 403
    assert "<code>browser_mismatch</code>" in response.text
    assert flow.all_consents() == []


def test_signed_in_victim_without_binding_rejected(
    flow: Flow, browser: requests.Session, other_browser: requests.Session
) -> None:
    flow.sign_in(browser, "mallory")
    state, nonce = flow.start(browser)
    flow.sign_in(other_browser, "alice")

    bounce = flow.finish(other_browser, state, flow.id_token(nonce))
    response = other_browser.get(flow.bounce_target(bounce), allow_redirects=False)

    assert response.status_code == 403
    assert flow.all_consents() == []


def test_bounce_flag_from_attacker_skips_nothing(
    flow: Flow, browser: requests.Session, other_browser: requests.Session
) -> None:
    flow.sign_in(browser, "mallory")
    state, nonce = flow.start(browser)
    params = {
        "state": state,
        "admin_consent": "true",
        "id_token": flow.id_token(nonce),
        BOUNCE_PARAMETER: "1",
    }

    response = flow.callback(other_browser, params)

    assert response.status_code == 403
    assert "<code>browser_mismatch</code>" in response.text
    assert flow.all_consents() == []


def test_bounce_page_keeps_state_unconsumed(flow: Flow, browser: requests.Session) -> None:
    flow.sign_in(browser, "alice")
    state, nonce = flow.start(browser)
    params = {
        "state": state,
        "admin_consent": "true",
        "id_token": flow.id_token(nonce),
        "org_id": "ignored",
    }

    # A SameSite=Strict session cookie is missing on the cross-site redirect.
    binding_only = {
        flow.runtime.settings.binding_cookie_name: browser.cookies[
            flow.runtime.settings.binding_cookie_name
        ]
    }
    bounce = requests.get(
        f"{flow.url}/adobe/callback",
        params=params,
        cookies=binding_only,
        allow_redirects=False,
        timeout=10,
    )
    target = flow.bounce_target(bounce)

    assert bounce.headers["Cache-Control"] == "no-store"
    assert bounce.headers["Referrer-Policy"] == "no-referrer"
    assert target.startswith(f"{flow.url}/adobe/callback?")
    query = parse_qs(urlsplit(target).query)
    assert query["state"] == [state]
    assert query[BOUNCE_PARAMETER] == ["1"]
    assert "org_id" not in query
    assert flow.all_consents() == []

    # The same-site reload carries every cookie and completes.
    response = browser.get(target, allow_redirects=False)

    assert response.status_code == 302
    assert [consent.account_id for consent in flow.consents("alice")] == ["alice"]


def test_strict_session_cookie_flow_completes(flow: Flow, browser: requests.Session) -> None:
    flow.sign_in(browser, "alice")
    state, nonce = flow.start(browser)
    session_cookie = flow.app.config["SESSION_COOKIE_NAME"]
    strict_jar = {name: value for name, value in browser.cookies.items() if name != session_cookie}

    bounce = flow.finish(requests.Session(), state, flow.id_token(nonce), cookies=strict_jar)
    response = browser.get(flow.bounce_target(bounce), allow_redirects=False)

    assert response.status_code == 302
    assert len(flow.consents("alice")) == 1


def test_bounce_happens_once(flow: Flow, other_browser: requests.Session) -> None:
    response = flow.callback(other_browser, {"state": "x" * 43, BOUNCE_PARAMETER: "1"})

    assert response.status_code == 400
    assert "<code>state_unknown</code>" in response.text
