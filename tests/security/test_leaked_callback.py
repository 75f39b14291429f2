"""A leaked callback URL opened in another browser uses up the flow and links nothing."""

from __future__ import annotations

import requests

from ..flow import Flow


def test_leaked_callback_consumes_state(
    flow: Flow, browser: requests.Session, other_browser: requests.Session
) -> None:
    flow.sign_in(browser, "alice")
    state, nonce = flow.start(browser)
    id_token = flow.id_token(nonce)

    # Someone else opens the callback URL first, without the admin's cookies.
    bounce = flow.finish(other_browser, state, id_token)
    leaked = other_browser.get(flow.bounce_target(bounce), allow_redirects=False)
    # Then the admin's own browser arrives with the same URL.
    real = flow.finish(browser, state, id_token)

    assert leaked.status_code == 403
    assert "<code>browser_mismatch</code>" in leaked.text
    assert real.status_code == 400
    assert "<code>state_unknown</code>" in real.text
    assert "Start again from this app" in real.text
    assert flow.all_consents() == []
