"""Redirect targets (``next``) stay on this site, on connect and on disconnect."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask

from flask_adobe_admin_auth.redirects import is_safe_path

from ..flow import Flow, csrf_token, disconnect

# ADOBE_ADMIN_AUTH_MAX_PARAM_LENGTH's default.
MAX_LENGTH = 2048

UNSAFE_TARGETS = [
    "//evil.example",
    "//evil.example/path",
    "///evil.example",
    "/\\evil.example",
    "/\\/evil.example",
    "\\\\evil.example",
    "https:evil.example",
    "https://evil.example",
    "http://evil.example/reports",
    "HTTPS://evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "/%09/evil.example",
    "/%2F/evil.example",
    "/%2f%2fevil.example",
    "/%5Cevil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\nSet-Cookie: x=1",
    "/\x00/evil.example",
    "/\u2028/evil.example",
    "/\u202e/evil.example",
    " /reports",
    "reports",
    "evil.example",
    "",
    "/" + "a" * 3000,
]

SAFE_TARGETS = ["/", "/reports", "/reports?tab=1&sort=name", "/a/b/c#section", "/caf%C3%A9"]


@pytest.mark.parametrize("target", UNSAFE_TARGETS)
def test_unsafe_target_rejected(target: str) -> None:
    assert is_safe_path(target, MAX_LENGTH) is False


@pytest.mark.parametrize("target", SAFE_TARGETS)
def test_relative_target_accepted(target: str) -> None:
    assert is_safe_path(target, MAX_LENGTH) is True


@pytest.mark.parametrize("target", UNSAFE_TARGETS[:20])
def test_connect_ignores_unsafe_next(flow: Flow, browser: requests.Session, target: str) -> None:
    flow.sign_in(browser, "alice")
    state, nonce = flow.start(browser, next_url=target)

    response = flow.finish(browser, state, flow.id_token(nonce))

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_connect_keeps_relative_next(flow: Flow, browser: requests.Session) -> None:
    flow.sign_in(browser, "alice")
    state, nonce = flow.start(browser, next_url="/reports?tab=1")

    response = flow.finish(browser, state, flow.id_token(nonce))

    assert response.headers["Location"] == "/reports?tab=1"


@pytest.mark.parametrize("target", UNSAFE_TARGETS[:20])
def test_disconnect_ignores_unsafe_next(flow: Flow, browser: requests.Session, target: str) -> None:
    flow.sign_in(browser, "alice")
    flow.connect(browser)

    response = disconnect(flow, browser, csrf_token=csrf_token(flow, browser), next=target)

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_disconnect_keeps_relative_next(flow: Flow, browser: requests.Session) -> None:
    flow.sign_in(browser, "alice")
    flow.connect(browser)

    response = disconnect(flow, browser, csrf_token=csrf_token(flow, browser), next="/settings")

    assert response.headers["Location"] == "/settings"


def test_protected_view_encodes_raw_query(app: Flask) -> None:
    client = app.test_client()
    client.get("/login/alice")

    response = client.get("/reports", environ_overrides={"QUERY_STRING": "tab=\xff&x=1"})

    assert response.status_code == 302
    next_url = parse_qs(urlsplit(response.headers["Location"]).query)["next"][0]
    assert next_url == "/reports?tab=%FF&x=1"
    assert is_safe_path(next_url, MAX_LENGTH)


def test_safe_path_respects_max_length() -> None:
    assert is_safe_path("/reports", 8) is True
    assert is_safe_path("/reports", 7) is False


# A target within the default limit but longer than a configured one.
LONG_TARGET = "/reports?" + "a" * 100


def test_connect_ignores_next_over_max_param_length(
    make_flow: Callable[..., Flow], browser: requests.Session
) -> None:
    flow = make_flow(ADOBE_ADMIN_AUTH_MAX_PARAM_LENGTH=64)
    flow.sign_in(browser, "alice")
    state, nonce = flow.start(browser, next_url=LONG_TARGET)

    response = flow.finish(browser, state, flow.id_token(nonce))

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_disconnect_ignores_next_over_max_param_length(
    make_flow: Callable[..., Flow], browser: requests.Session
) -> None:
    flow = make_flow(ADOBE_ADMIN_AUTH_MAX_PARAM_LENGTH=64)
    flow.sign_in(browser, "alice")
    flow.connect(browser)

    response = disconnect(flow, browser, csrf_token=csrf_token(flow, browser), next=LONG_TARGET)

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
