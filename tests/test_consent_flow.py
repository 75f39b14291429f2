"""The whole consent flow over real HTTP against the IMS stand-in."""

from __future__ import annotations

import pytest
import requests

from flask_adobe_admin_auth.testing import LocalIMS

from .support import ORG_A, LiveServer

DOCUMENTED_ERRORS = [
    ("invalid_scopes", 400),
    ("invalid_redirect_uri", 400),
    ("insufficient_privilege", 403),
    ("incompatible_account_type", 403),
    ("missing_state_param", 400),
    ("error", 400),
]


def test_flow_links_org_and_serves_token(
    live_server: LiveServer, local_ims: LocalIMS, browser: requests.Session
) -> None:
    local_ims.auto_approve(ORG_A)
    browser.get(f"{live_server.url}/login/alice")

    response = browser.get(f"{live_server.url}/adobe/connect?next=/reports")

    assert response.status_code == 200
    assert response.url == f"{live_server.url}/reports"
    assert response.json()["org_id"] == ORG_A
    assert response.json()["consent_org_id"] == ORG_A
    assert local_ims.token_requests(ORG_A) == 1


def test_cancel_shows_page_and_stores_nothing(
    live_server: LiveServer, local_ims: LocalIMS, browser: requests.Session
) -> None:
    local_ims.auto_cancel()
    browser.get(f"{live_server.url}/login/alice")

    response = browser.get(f"{live_server.url}/adobe/connect")

    assert response.status_code == 403
    assert "cancelled" in response.text
    assert browser.get(f"{live_server.url}/reports", allow_redirects=False).status_code == 302


@pytest.mark.parametrize(("code", "status"), DOCUMENTED_ERRORS)
def test_adobe_error_codes_show_pages(
    live_server: LiveServer,
    local_ims: LocalIMS,
    browser: requests.Session,
    code: str,
    status: int,
) -> None:
    local_ims.auto_error(code)
    browser.get(f"{live_server.url}/login/alice")

    response = browser.get(f"{live_server.url}/adobe/connect")

    assert response.status_code == status
    assert f"<code>{code}</code>" in response.text


def test_unknown_error_code_shows_generic_page(
    live_server: LiveServer, local_ims: LocalIMS, browser: requests.Session
) -> None:
    local_ims.auto_error("brand_new_code")
    browser.get(f"{live_server.url}/login/alice")

    response = browser.get(f"{live_server.url}/adobe/connect")

    assert response.status_code == 400
    assert "<code>unknown_error</code>" in response.text
