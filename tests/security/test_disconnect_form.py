"""Disconnect rejects a form that repeats one of its fields."""

from __future__ import annotations

import pytest
import requests

from ..flow import Flow, active_orgs, csrf_token
from ..support import ORG_A


@pytest.fixture
def connected(flow: Flow, browser: requests.Session) -> requests.Session:
    flow.sign_in(browser, "alice")
    assert flow.connect(browser).status_code == 302
    return browser


@pytest.mark.parametrize("second", ["valid", "not-a-token"])
def test_disconnect_repeated_csrf_token_rejected(
    flow: Flow, connected: requests.Session, second: str
) -> None:
    token = csrf_token(flow, connected)
    other = token if second == "valid" else second

    response = connected.post(
        f"{flow.url}/adobe/disconnect",
        data=[("csrf_token", token), ("csrf_token", other)],
        allow_redirects=False,
    )

    assert response.status_code == 400
    assert "<code>csrf_failed</code>" in response.text
    assert active_orgs(flow, "alice") == [ORG_A]


@pytest.mark.parametrize(
    "field", [("org_id", ORG_A, "OTHER@AdobeOrg"), ("next", "/reports", "/elsewhere")]
)
def test_disconnect_repeated_field_rejected(
    flow: Flow, connected: requests.Session, field: tuple[str, str, str]
) -> None:
    name, first, second = field

    response = connected.post(
        f"{flow.url}/adobe/disconnect",
        data=[("csrf_token", csrf_token(flow, connected)), (name, first), (name, second)],
        allow_redirects=False,
    )

    assert response.status_code == 400
    assert "<code>duplicate_parameter</code>" in response.text
    assert active_orgs(flow, "alice") == [ORG_A]
