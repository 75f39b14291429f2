"""The org id comes only from the verified id_token, never from the query."""

from __future__ import annotations

import pytest
import requests

from ..flow import Flow
from ..support import ORG_A, ORG_B


@pytest.mark.parametrize("name", ["org_id", "orgId", "org", "ORG_ID"])
def test_query_org_ignored(flow: Flow, browser: requests.Session, name: str) -> None:
    flow.sign_in(browser, "alice")
    state, nonce = flow.start(browser)
    params = {
        "state": state,
        "admin_consent": "true",
        "id_token": flow.id_token(nonce, org_id=ORG_A),
        name: ORG_B,
    }

    response = flow.callback(browser, params)

    assert response.status_code == 302
    assert [consent.org_id for consent in flow.consents("alice")] == [ORG_A]


def test_query_org_without_token_links_nothing(flow: Flow, browser: requests.Session) -> None:
    flow.sign_in(browser, "alice")
    state, _ = flow.start(browser)

    response = flow.callback(
        browser, {"state": state, "admin_consent": "true", "org_id": ORG_B, "orgId": ORG_B}
    )

    assert response.status_code == 400
    assert "<code>consent_missing</code>" in response.text
    assert flow.all_consents() == []


def test_connect_query_org_ignored(flow: Flow, browser: requests.Session) -> None:
    flow.sign_in(browser, "alice")
    flow.ims.auto_approve(ORG_A)

    response = browser.get(f"{flow.url}/adobe/connect", params={"org_id": ORG_B})

    assert response.status_code == 200
    assert [consent.org_id for consent in flow.consents("alice")] == [ORG_A]
