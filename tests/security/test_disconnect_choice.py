"""Which consent a disconnect revokes: the named org, or the app's org selector's pick."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pytest
import requests

from flask_adobe_admin_auth import AdobeAdminAuth, Consent

from ..flow import Flow, active_orgs, csrf_token, disconnect
from ..support import ORG_A, ORG_B


@pytest.fixture
def two_orgs(flow: Flow, browser: requests.Session) -> requests.Session:
    """Alice connected ORG_A, then ORG_B, so ORG_B is the most recent consent."""
    flow.sign_in(browser, "alice")
    assert flow.connect(browser, ORG_A).status_code == 302
    assert flow.connect(browser, ORG_B).status_code == 302
    return browser


def disconnect_with_token(flow: Flow, browser: requests.Session, **form: str) -> requests.Response:
    return disconnect(flow, browser, csrf_token=csrf_token(flow, browser), **form)


def test_disconnect_overlong_org_id_not_connected(
    flow: Flow, two_orgs: requests.Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="flask_adobe_admin_auth")

    response = disconnect_with_token(flow, two_orgs, org_id="X" * 300)

    assert response.status_code == 404
    assert "<code>not_connected</code>" in response.text
    assert sorted(active_orgs(flow, "alice")) == sorted([ORG_A, ORG_B])
    assert "longer than 255 characters" in caplog.text


def test_disconnect_named_org(flow: Flow, two_orgs: requests.Session) -> None:
    response = disconnect_with_token(flow, two_orgs, org_id=ORG_A)

    assert response.status_code == 302
    assert active_orgs(flow, "alice") == [ORG_B]


def test_disconnect_without_org_takes_most_recent(flow: Flow, two_orgs: requests.Session) -> None:
    response = disconnect_with_token(flow, two_orgs)

    assert response.status_code == 302
    assert active_orgs(flow, "alice") == [ORG_A]


def test_disconnect_without_org_uses_selector(flow: Flow, two_orgs: requests.Session) -> None:
    adobe: AdobeAdminAuth = flow.app.extensions["test_adobe"]
    offered: list[list[str]] = []

    @adobe.org_selector
    def pick_org_a(consents: Sequence[Consent]) -> str | None:
        offered.append([consent.org_id for consent in consents])
        return ORG_A

    response = disconnect_with_token(flow, two_orgs)

    assert response.status_code == 302
    assert offered == [[ORG_B, ORG_A]]
    assert active_orgs(flow, "alice") == [ORG_B]


def test_disconnect_selector_naming_unknown_org(flow: Flow, two_orgs: requests.Session) -> None:
    adobe: AdobeAdminAuth = flow.app.extensions["test_adobe"]
    adobe.org_selector(lambda consents: "UNKNOWN@AdobeOrg")

    response = disconnect_with_token(flow, two_orgs)

    assert response.status_code == 404
    assert "<code>not_connected</code>" in response.text
    assert sorted(active_orgs(flow, "alice")) == sorted([ORG_A, ORG_B])
